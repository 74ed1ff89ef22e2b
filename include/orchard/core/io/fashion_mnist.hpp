#pragma once
// Fashion-MNIST loader on top of the IDX reader: the four gzip files of the Debian package
// dataset-fashion-mnist (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), 60000 + 10000 images of 28 x 28 pixels,
// labels 0..9.
#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "idx.hpp"

namespace orchard::io {

/// Images as rows of 784 pixels (scaled to [0, 1] when asked), labels 0..9.
struct FashionMnist {
  RowMatrix<float> X_train, X_test;
  Eigen::VectorXi y_train, y_test;
};

namespace detail {

inline void fashion_mnist_part(const std::string& dir, const std::string& stem,
                               std::int64_t max_rows, bool scale01, RowMatrix<float>& X,
                               Eigen::VectorXi& y) {
  const std::string img = dir + "/" + stem + "-images-idx3-ubyte.gz";
  const std::string lab = dir + "/" + stem + "-labels-idx1-ubyte.gz";
  const IdxRaw ri = read_idx_raw(img, max_rows);
  const IdxRaw rl = read_idx_raw(lab, max_rows);
  if (ri.type != 0x08 || ri.dims.size() != 3 || ri.dims[1] != 28 || ri.dims[2] != 28) {
    throw FormatError("orchard: '" + img + "' is not a uint8 n x 28 x 28 IDX image file");
  }
  if (rl.type != 0x08 || rl.dims.size() != 1) {
    throw FormatError("orchard: '" + lab + "' is not a uint8 1-D IDX label file");
  }
  if (ri.dims[0] != rl.dims[0]) {
    throw FormatError("orchard: '" + img + "' holds " + std::to_string(ri.dims[0]) +
                      " images but '" + lab + "' holds " + std::to_string(rl.dims[0]) + " labels");
  }
  X.resize(ri.rows, ri.cols);
  const float s = scale01 ? 1.0f / 255.0f : 1.0f;
  const std::size_t n = ri.bytes.size();
  float* out = X.data();
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(ri.bytes[i]) * s;
  y.resize(rl.rows);
  for (std::int64_t i = 0; i < rl.rows; ++i) {
    const int v = rl.bytes[static_cast<std::size_t>(i)];
    if (v > 9) {
      throw FormatError("orchard: '" + lab + "' label " + std::to_string(i) + " = " +
                        std::to_string(v) + " is outside 0..9");
    }
    y[i] = v;
  }
}

}  // namespace detail

/// Loads Fashion-MNIST from `dir`; max_train / max_test cap the rows read (-1 = all, read from the
/// start of each file). Pixels are divided by 255 when scale01. IoError when a file is missing,
/// ParseError when one is truncated or corrupt, FormatError when the files are not Fashion-MNIST.
inline FashionMnist load_fashion_mnist(const std::string& dir = "/usr/share/datasets/fashion-mnist",
                                       std::int64_t max_train = -1, std::int64_t max_test = -1,
                                       bool scale01 = true) {
  require(max_train >= -1, "max_train", max_train, "must be >= -1 (-1 = all)");
  require(max_test >= -1, "max_test", max_test, "must be >= -1 (-1 = all)");
  FashionMnist d;
  detail::fashion_mnist_part(dir, "train", max_train, scale01, d.X_train, d.y_train);
  detail::fashion_mnist_part(dir, "t10k", max_test, scale01, d.X_test, d.y_test);
  return d;
}

}  // namespace orchard::io
