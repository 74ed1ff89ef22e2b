#pragma once
// Non-owning, trivially copyable views of 2-D and 1-D data, usable on host and device. They are
// built from a raw pointer + shape, from any Eigen dense expression with storage (Matrix, Map,
// Ref, Block) or from an xtensor container, without including Eigen or xtensor here.
#include <concepts>
#include <cstdint>
#include <type_traits>

#include "config.hpp"
#include "error.hpp"

namespace orchard {

using index_t = std::int64_t;

namespace detail {
// Eigen dense objects with direct access: data(), rows(), cols(), inner/outerStride(), IsRowMajor.
template <class M>
concept EigenDense = requires(M& m) {
  m.data();
  m.rows();
  m.cols();
  m.innerStride();
  m.outerStride();
  std::remove_cvref_t<M>::IsRowMajor;
};
// xtensor containers: data(), shape(), strides() (in elements), dimension().
template <class M>
concept XtensorLike = requires(M& m) {
  m.data();
  m.shape();
  m.strides();
  m.dimension();
} && !EigenDense<M>;
}  // namespace detail

/// A rows × cols matrix at data[i * row_stride + j * col_stride] (strides in elements).
template <class T>
struct MatrixView {
  T* data = nullptr;
  index_t rows = 0;
  index_t cols = 0;
  index_t row_stride = 0;
  index_t col_stride = 1;

  MatrixView() = default;
  /// Row-major contiguous data.
  ORCHARD_HD MatrixView(T* ptr, index_t r, index_t c)
      : data(ptr), rows(r), cols(c), row_stride(c), col_stride(1) {}
  ORCHARD_HD MatrixView(T* ptr, index_t r, index_t c, index_t rs, index_t cs)
      : data(ptr), rows(r), cols(c), row_stride(rs), col_stride(cs) {}

  template <detail::EigenDense M>
    requires std::is_convertible_v<decltype(std::declval<M&>().data()), T*>
  MatrixView(M& m)  // NOLINT: implicit on purpose, views are cheap
      : data(m.data()), rows(m.rows()), cols(m.cols()) {
    if constexpr (std::remove_cvref_t<M>::IsRowMajor) {
      row_stride = m.outerStride();
      col_stride = m.innerStride();
    } else {
      row_stride = m.innerStride();
      col_stride = m.outerStride();
    }
  }

  template <detail::XtensorLike M>
    requires std::is_convertible_v<decltype(std::declval<M&>().data()), T*>
  MatrixView(M& m)  // NOLINT
      : data(m.data()) {
    require(m.dimension() == 2, "matrix.dimension", m.dimension(), "a matrix view needs 2-D data");
    rows = static_cast<index_t>(m.shape()[0]);
    cols = static_cast<index_t>(m.shape()[1]);
    row_stride = static_cast<index_t>(m.strides()[0]);
    col_stride = static_cast<index_t>(m.strides()[1]);
    // xtensor reports stride 0 along dimensions of extent 1.
    if (rows == 1 && row_stride == 0) row_stride = cols;
    if (cols == 1 && col_stride == 0) col_stride = 1;
  }

  /// A mutable view converts to a read-only one.
  template <class U>
    requires(std::is_same_v<T, const U>)
  ORCHARD_HD MatrixView(const MatrixView<U>& o)
      : data(o.data), rows(o.rows), cols(o.cols), row_stride(o.row_stride),
        col_stride(o.col_stride) {}

  ORCHARD_HD T& operator()(index_t i, index_t j) const {
    return data[i * row_stride + j * col_stride];
  }
  ORCHARD_HD T* row_ptr(index_t i) const { return data + i * row_stride; }
  ORCHARD_HD index_t size() const { return rows * cols; }
  ORCHARD_HD bool empty() const { return rows == 0 || cols == 0; }
  ORCHARD_HD bool row_major_contiguous() const { return col_stride == 1 && row_stride == cols; }
  /// Rows [begin, end) as a view of the same data.
  ORCHARD_HD MatrixView row_block(index_t begin, index_t end) const {
    return MatrixView(data + begin * row_stride, end - begin, cols, row_stride, col_stride);
  }
};

/// A vector of n elements at data[i * stride].
template <class T>
struct VectorView {
  T* data = nullptr;
  index_t size = 0;
  index_t stride = 1;

  VectorView() = default;
  ORCHARD_HD VectorView(T* ptr, index_t n, index_t s = 1) : data(ptr), size(n), stride(s) {}

  template <detail::EigenDense M>
    requires std::is_convertible_v<decltype(std::declval<M&>().data()), T*>
  VectorView(M& m)  // NOLINT
      : data(m.data()), size(m.size()) {
    require(m.rows() == 1 || m.cols() == 1, "vector.shape", std::to_string(m.rows()) + "x" +
                                                                std::to_string(m.cols()),
            "a vector view needs one row or one column");
    stride = m.innerStride();
  }

  template <detail::XtensorLike M>
    requires std::is_convertible_v<decltype(std::declval<M&>().data()), T*>
  VectorView(M& m)  // NOLINT
      : data(m.data()) {
    require(m.dimension() == 1, "vector.dimension", m.dimension(), "a vector view needs 1-D data");
    size = static_cast<index_t>(m.shape()[0]);
    stride = size == 1 ? 1 : static_cast<index_t>(m.strides()[0]);
  }

  template <class U>
    requires(std::is_same_v<T, const U>)
  ORCHARD_HD VectorView(const VectorView<U>& o) : data(o.data), size(o.size), stride(o.stride) {}

  ORCHARD_HD T& operator[](index_t i) const { return data[i * stride]; }
  ORCHARD_HD bool empty() const { return size == 0; }
};

template <class T>
using ConstMatrixView = MatrixView<const T>;
template <class T>
using ConstVectorView = VectorView<const T>;

/// Read-only view of anything a MatrixView can be built from.
template <class T, class M>
ConstMatrixView<T> cview(const M& m) {
  return ConstMatrixView<T>(m);
}

}  // namespace orchard
