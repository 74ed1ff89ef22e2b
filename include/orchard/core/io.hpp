#pragma once
// All readers of orchard::io: CSV/TSV, LibSVM, .npy, IDX, Fashion-MNIST.
#include "io/csv.hpp"
#include "io/dataset.hpp"
#include "io/fashion_mnist.hpp"
#include "io/idx.hpp"
#include "io/libsvm.hpp"
#include "io/npy.hpp"
