#pragma once
// orchard::spectral: RankMe and its companions (numerical rank, stable rank, participation ratio,
// NESum, alpha-ReQ, condition number, LiDAR) from one spectrum, by SVD or a streaming float64
// Gram. The CUDA path is in <orchard/spectral/cuda.hpp> (translation units compiled with nvcc).
#include "spectral/eigen.hpp"
#include "spectral/gram.hpp"
#include "spectral/lidar.hpp"
#include "spectral/metrics.hpp"
#include "spectral/spectrum.hpp"
