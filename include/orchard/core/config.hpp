#pragma once
// Small shared math is compiled for host and device alike; ORCHARD_HD marks it.
#if defined(__CUDACC__)
#define ORCHARD_HD __host__ __device__
#else
#define ORCHARD_HD
#endif

#define ORCHARD_VERSION_MAJOR 0
#define ORCHARD_VERSION_MINOR 1
#define ORCHARD_VERSION_PATCH 0
#define ORCHARD_VERSION_STRING "0.1.0"
