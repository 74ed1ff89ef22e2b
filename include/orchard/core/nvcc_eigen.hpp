#pragma once
// For translation units compiled by nvcc that instantiate Eigen in host code (the CUDA paths of
// gbnn and spectral). Eigen 3.4.0's host/device annotations trigger nvcc front-end diagnostics
// 20011/20014 (host function called from a host/device one) and 20012 (annotation ignored on a
// defaulted function) wherever Eigen templates are instantiated; they are about Eigen's code, and
// are suppressed for the rest of the translation unit. Orchard's kernels never use Eigen.
#if defined(__CUDACC__)
#pragma nv_diag_suppress 20011
#pragma nv_diag_suppress 20012
#pragma nv_diag_suppress 20014
#endif
