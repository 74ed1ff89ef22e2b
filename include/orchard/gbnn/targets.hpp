#pragma once
// Training labels turned into the targets of a loss: values (regression), ±1 (binary), class
// indices and one-hot rows (multiclass). Shared by GBNN and the MLP baseline.
#include <string>
#include <vector>

#include "common.hpp"

namespace orchard::gbnn::detail {

template <class T>
struct Targets {
  Loss loss = Loss::squared;
  int n_classes = 0;  ///< 0 for regression
  index_t K = 1;      ///< outputs
  Vector<T> y;        ///< squared: y; binary: ±1; multiclass: class index
  RowMatrix<T> Y;     ///< multiclass: one-hot n × K
};

template <class T>
Targets<T> make_targets(ConstVectorView<T> y, Task task, index_t rows, const char* name = "y") {
  require(y.size == rows, std::string(name) + ".size", y.size,
          "must equal the number of rows of X (" + std::to_string(rows) + ")");
  require(rows > 0, "X.rows", rows, "must be > 0");
  Targets<T> t;
  t.y.resize(rows);
  if (task == Task::regression) {
    for (index_t i = 0; i < rows; ++i) {
      const T v = y[i];
      if (!std::isfinite(v)) {
        throw InvalidArgument(std::string("orchard: argument '") + name + "[" +
                              std::to_string(i) + "]' = " + ::orchard::detail::to_text(v) +
                              ": regression targets must be finite");
      }
      t.y[i] = v;
    }
    return t;
  }
  const int C = check_class_labels(y, name);
  std::vector<index_t> count(static_cast<std::size_t>(C), 0);
  for (index_t i = 0; i < rows; ++i) ++count[static_cast<std::size_t>(y[i])];
  int present = 0;
  for (auto c : count) present += c > 0 ? 1 : 0;
  require(present >= 2, name, "one class only (" + std::to_string(C - 1) + ")",
          "classification needs at least two classes in the training labels (the initial score "
          "F0 would be infinite)");
  t.n_classes = C;
  if (C == 2) {
    t.loss = Loss::binary;
    t.K = 1;
    for (index_t i = 0; i < rows; ++i) t.y[i] = y[i] > T(0.5) ? T(1) : T(-1);
  } else {
    t.loss = Loss::multiclass;
    t.K = C;
    t.Y = RowMatrix<T>::Zero(rows, C);
    for (index_t i = 0; i < rows; ++i) {
      t.y[i] = y[i];
      t.Y(i, static_cast<index_t>(y[i])) = T(1);
    }
  }
  return t;
}

/// Validation labels for a model with `n_classes` classes (0 = regression).
template <class T>
Targets<T> make_eval_targets(ConstVectorView<T> y, Loss loss, int n_classes, index_t rows,
                             const char* name) {
  require(y.size == rows, std::string(name) + ".size", y.size,
          "must equal the number of rows (" + std::to_string(rows) + ")");
  Targets<T> t;
  t.loss = loss;
  t.n_classes = n_classes;
  t.K = loss == Loss::multiclass ? n_classes : 1;
  t.y.resize(rows);
  if (loss == Loss::squared) {
    for (index_t i = 0; i < rows; ++i) {
      require(std::isfinite(y[i]), std::string(name) + "[" + std::to_string(i) + "]", y[i],
              "must be finite");
      t.y[i] = y[i];
    }
    return t;
  }
  const int C = rows > 0 ? check_class_labels(y, name) : 0;
  require(C <= n_classes, std::string(name) + ".max", C - 1,
          "is a class the model was not trained on (classes 0.." + std::to_string(n_classes - 1) +
              ")");
  if (loss == Loss::binary) {
    for (index_t i = 0; i < rows; ++i) t.y[i] = y[i] > T(0.5) ? T(1) : T(-1);
  } else {
    t.Y = RowMatrix<T>::Zero(rows, n_classes);
    for (index_t i = 0; i < rows; ++i) {
      t.y[i] = y[i];
      t.Y(i, static_cast<index_t>(y[i])) = T(1);
    }
  }
  return t;
}

}  // namespace orchard::gbnn::detail
