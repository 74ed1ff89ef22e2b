// Fuzz targets of the core readers: CSV/TSV, LibSVM, .npy, IDX (plain and gzip).
#include <orchard/core/io.hpp>

#include "fuzz_targets.hpp"

namespace {

using orchard_fuzz::accepts;
using orchard_fuzz::fail;

template <class T>
void check_dataset(const orchard::io::Dataset<T>& ds, bool labels) {
  if (ds.X.rows() < 1) fail("reader accepted a table without rows");
  if (static_cast<std::size_t>(ds.X.cols()) != ds.feature_names.size()) {
    fail("feature_names size differs from the column count");
  }
  if (labels && ds.y.size() != ds.X.rows()) fail("label count differs from the row count");
}

}  // namespace

// Byte 0 picks the options (bit 0 header, bit 1 TSV, bits 2-3 label column none/0/1/name "y");
// the rest is the file.
ORCHARD_FUZZ_TARGET(csv) {
  if (size < 1) return false;
  const std::uint8_t sel = data[0];
  const std::string path = orchard_fuzz::write_scratch(data + 1, size - 1, ".csv");
  orchard::io::CsvOptions opt;
  opt.header = (sel & 1) != 0;
  if (sel & 2) opt.delimiter = '\t';
  const int lab = (sel >> 2) & 3;
  if (lab == 1) opt.label_column = 0;
  if (lab == 2) opt.label_column = 1;
  if (lab == 3 && opt.header) opt.label_name = "y";
  opt.skip_rows = (sel >> 4) & 1;
  orchard::io::Dataset<double> ds;
  const bool ok = accepts([&] { ds = orchard::io::read_csv<double>(path, opt); });
  if (ok) check_dataset(ds, opt.label_column >= 0 || !opt.label_name.empty());
  orchard::io::Dataset<float> df;
  if (accepts([&] { df = orchard::io::read_csv<float>(path, opt); }) != ok) {
    fail("read_csv<float> and read_csv<double> disagree on accepting the file");
  }
  return ok;
}

// Byte 0: bits 0-1 index_base (-1, 0, 1), bit 2 absent_is_missing, bits 3-5 num_features.
ORCHARD_FUZZ_TARGET(libsvm) {
  if (size < 1) return false;
  const std::uint8_t sel = data[0];
  const std::string path = orchard_fuzz::write_scratch(data + 1, size - 1, ".svm");
  orchard::io::LibsvmOptions opt;
  const int base = sel & 3;
  opt.index_base = base == 0 ? -1 : (base == 1 ? 0 : 1);
  opt.absent_is_missing = (sel & 4) != 0;
  opt.num_features = (sel >> 3) & 7;
  orchard::io::Dataset<double> ds;
  if (!accepts([&] { ds = orchard::io::read_libsvm<double>(path, opt); })) return false;
  check_dataset(ds, true);
  if (opt.num_features > 0 && ds.X.cols() != opt.num_features) fail("num_features ignored");
  return true;
}

ORCHARD_FUZZ_TARGET(npy) {
  const std::string path = orchard_fuzz::write_scratch(data, size, ".npy");
  orchard::io::RowMatrix<double> m;
  const bool ok = accepts([&] { m = orchard::io::read_npy<double>(path); });
  if (ok) {
    xt::xarray<float> a;
    if (!accepts([&] { a = orchard::io::read_npy_array<float>(path); })) {
      fail("read_npy accepted a file read_npy_array rejects");
    }
    if (static_cast<std::size_t>(m.size()) != a.size()) fail("read_npy and read_npy_array sizes differ");
    // Every accepted file is re-written and read back unchanged.
    const std::string out = orchard_fuzz::scratch_path(".rt.npy");
    orchard::io::write_npy(out, m);
    const auto back = orchard::io::read_npy<double>(out);
    if (back.rows() != m.rows() || back.cols() != m.cols()) fail("npy round trip changed the shape");
    for (Eigen::Index i = 0; i < m.size(); ++i) {
      if (!orchard_fuzz::same(back.data()[i], m.data()[i])) fail("npy round trip changed a value");
    }
  }
  orchard::io::RowMatrix<std::int32_t> mi;
  (void)accepts([&] { mi = orchard::io::read_npy<std::int32_t>(path); });
  return ok;
}

ORCHARD_FUZZ_TARGET(idx) {
  const std::string path = orchard_fuzz::write_scratch(data, size, ".idx");
  orchard::io::RowMatrix<float> m;
  const bool ok = accepts([&] { m = orchard::io::read_idx<float>(path); });
  if (ok) {
    std::vector<std::uint32_t> shape;
    if (!accepts([&] { shape = orchard::io::idx_shape(path); })) fail("idx_shape rejects a file read_idx accepts");
    if (shape.empty() || shape[0] != static_cast<std::uint64_t>(m.rows())) fail("idx_shape disagrees with read_idx");
  }
  orchard::io::RowMatrix<std::uint8_t> mu;
  (void)accepts([&] { mu = orchard::io::read_idx<std::uint8_t>(path); });
  return ok;
}
