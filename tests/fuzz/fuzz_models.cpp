// Fuzz targets of the GBRL, GBNN and fhash model files (Orchard JSON). An accepted model must
// predict on a small fixed input and survive a JSON round trip unchanged.
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive (GCC bug 105329) on std::string concatenation inlined from
// gbrl::Ensemble::init() at -O2.
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include <orchard/fhash/cache.hpp>
#include <orchard/gbnn.hpp>
#include <orchard/gbrl.hpp>

#include <optional>

#include "fuzz_targets.hpp"

namespace {

using orchard_fuzz::accepts;
using orchard_fuzz::fail;

template <class T>
Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> probe_rows(std::int64_t d) {
  Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X(3, d);
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    X(0, j) = T(0);
    X(1, j) = static_cast<T>(j % 5) - T(2);
    X(2, j) = j % 2 ? T(1e3) : T(-0.5);
  }
  return X;
}

template <class M>
void same_matrix(const M& a, const M& b, const char* what) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) fail(std::string(what) + ": round trip changed the shape");
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    if (!orchard_fuzz::same(static_cast<double>(a.data()[i]), static_cast<double>(b.data()[i]))) {
      fail(std::string(what) + ": round trip changed a prediction");
    }
  }
}

}  // namespace

ORCHARD_FUZZ_TARGET(gbrl) {
  using orchard::gbrl::Ensemble;
  const std::string path = orchard_fuzz::write_scratch(data, size, ".json");
  std::optional<Ensemble> loaded;
  if (!accepts([&] { loaded.emplace(Ensemble::load(path)); })) return false;
  const Ensemble& e = *loaded;
  const Ensemble back = Ensemble::from_json(e.to_json());
  if (back.num_trees() != e.num_trees()) fail("gbrl: round trip changed the tree count");
  if (e.n_features() < 1 || e.n_features() > 4096) return true;
  const auto X = probe_rows<double>(e.n_features());
  const orchard::ConstMatrixView<double> v(X);
  same_matrix(e.predict(v), back.predict(v), "gbrl");
  if (e.num_trees() <= 64) (void)orchard::gbrl::shap_values(e, v);
  return true;
}

// Byte 0 even: a gbnn model file; odd: a gbnn.network file. The rest is the file.
ORCHARD_FUZZ_TARGET(gbnn) {
  if (size < 1) return false;
  const std::string path = orchard_fuzz::write_scratch(data + 1, size - 1, ".json");
  if (data[0] % 2 == 0) {
    orchard::gbnn::Model<double> m;
    if (!accepts([&] { m = orchard::gbnn::Model<double>::load(path); })) return false;
    const auto back = orchard::gbnn::Model<double>::from_json(m.to_json());
    if (m.n_features() > 4096) return true;
    const auto X = probe_rows<double>(m.n_features());
    const orchard::ConstMatrixView<double> v(X);
    const orchard::Context one(1);
    same_matrix(m.predict_proba(v, -1, one), back.predict_proba(v, -1, one), "gbnn model");
    (void)m.to_network();
    return true;
  }
  {
    orchard::gbnn::Network<double> n;
    if (!accepts([&] { n = orchard::gbnn::Network<double>::load(path); })) return false;
    const auto back = orchard::gbnn::Network<double>::from_json(n.to_json());
    if (n.n_features() > 4096) return true;
    const auto X = probe_rows<double>(n.n_features());
    const orchard::ConstMatrixView<double> v(X);
    const orchard::Context one(1);
    same_matrix(n.predict_proba(v, -1, one), back.predict_proba(v, -1, one), "gbnn network");
    return true;
  }
}

ORCHARD_FUZZ_TARGET(fhash_cache) {
  using orchard::fhash::FecCache;
  const std::string path = orchard_fuzz::write_scratch(data, size, ".json");
  FecCache c;
  if (!accepts([&] { c = FecCache::load(path); })) return false;
  const FecCache back = FecCache::from_json(c.to_json());
  if (back.size() != c.size()) fail("fhash: round trip changed the entry count");
  if (back.to_json() != c.to_json()) fail("fhash: round trip changed the document");
  // The loaded cache keeps working.
  for (std::uint64_t h = 0; h < 8; ++h) {
    if (c.lookup(h * 0x9E3779B97F4A7C15ull).needs_evaluation()) c.record(h * 0x9E3779B97F4A7C15ull, 1.0);
  }
  return true;
}
