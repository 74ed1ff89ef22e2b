// rankme: every spectral metric (RankMe and its companions, LiDAR with groups) of an embedding
// matrix read from .npy or CSV/TSV, printed as text or JSON.
//
//   rankme embeddings.npy
//   rankme embeddings.csv --header --label-column 0 --json
//   rankme z.npy --groups groups.npy          # LiDAR: one group label per row
//   rankme z.npy --group-size 4               # LiDAR: rows 4g..4g+3 are one group
//   rankme --gaussian 256000 --cols 512       # streamed iid N(0,1) rows, never held whole
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
// orchard/spectral.hpp first: it includes Eigen with Eigen's own header warnings silenced.
#include <orchard/spectral.hpp>
#include <orchard/core/io.hpp>
#include <string>
#include <vector>

#include <sys/resource.h>

namespace sp = orchard::spectral;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

template <class T>
orchard::io::RowMatrix<T> load(const std::string& path, const orchard::io::CsvOptions& csv) {
  if (ends_with(path, ".npy")) return orchard::io::read_npy<T>(path);
  if (ends_with(path, ".tsv")) return orchard::io::read_tsv<T>(path, csv).X;
  return orchard::io::read_csv<T>(path, csv).X;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

nlohmann::json number(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

template <class T>
int run(const std::string& path, const orchard::io::CsvOptions& csv, const sp::Params& params,
        const orchard::Context& ctx, const std::string& groups_path, std::int64_t group_size,
        bool json, std::int64_t gaussian_rows, std::int64_t gaussian_cols) {
  const auto t_read = std::chrono::steady_clock::now();
  const orchard::io::RowMatrix<T> z =
      gaussian_rows > 0 ? orchard::io::RowMatrix<T>() : load<T>(path, csv);
  const auto t0 = std::chrono::steady_clock::now();
  sp::Spectrum spec;
  if (gaussian_rows > 0) {
    // Streamed synthetic rows: one block buffer at a time, so memory does not grow with N.
    orchard::Rng rng(params.seed);
    orchard::io::RowMatrix<T> block(1024, gaussian_cols);
    std::int64_t done = 0;
    sp::BlockSource<T> next = [&]() {
      const std::int64_t r = std::min<std::int64_t>(1024, gaussian_rows - done);
      if (r <= 0) return orchard::ConstMatrixView<T>();
      for (Eigen::Index i = 0; i < r * gaussian_cols; ++i) block.data()[i] = static_cast<T>(rng.normal());
      done += r;
      return orchard::ConstMatrixView<T>(block.data(), r, gaussian_cols);
    };
    spec = sp::spectrum<T>(next, gaussian_cols, params, ctx);
  } else {
    spec = sp::spectrum(orchard::ConstMatrixView<T>(z), params, ctx);
  }
  sp::Report r = sp::report(spec, params);
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<std::int64_t> groups;
  if (!groups_path.empty()) {
    const orchard::io::CsvOptions plain;
    const auto g = load<double>(groups_path, plain);
    for (Eigen::Index i = 0; i < g.size(); ++i) groups.push_back(static_cast<std::int64_t>(g.data()[i]));
  } else if (group_size > 0) {
    for (Eigen::Index i = 0; i < z.rows(); ++i) groups.push_back(i / group_size);
  }
  if (!groups.empty() && gaussian_rows == 0) r.lidar = sp::lidar(orchard::ConstMatrixView<T>(z), groups, params, ctx);
  const auto t2 = std::chrono::steady_clock::now();
  const double read_s = std::chrono::duration<double>(t0 - t_read).count();
  const double spec_s = std::chrono::duration<double>(t1 - t0).count();
  const double lidar_s = std::chrono::duration<double>(t2 - t1).count();

  if (json) {
    nlohmann::json j = {
        {"file", gaussian_rows > 0 ? "gaussian" : path},
        {"rows", r.rows},
        {"input_rows", r.input_rows},
        {"cols", r.cols},
        {"dtype", sizeof(T) == 4 ? "float32" : "float64"},
        {"method", sp::to_string(r.method)},
        {"threads", ctx.threads()},
        {"rankme", number(r.rankme)},
        {"rankme_eps", params.eps},
        {"rankme_eps0", number(r.rankme_eps0)},
        {"rankme_eps1e-5", number(r.rankme_eps1e5)},
        {"rankme_centred", number(r.rankme_centred)},
        {"rankme_normalised", number(r.rankme_normalised)},
        {"numerical_rank", r.numerical_rank},
        {"rank_tolerance", number(r.rank_tolerance)},
        {"largest_singular_value", number(r.largest_singular_value)},
        {"stable_rank", number(r.stable_rank)},
        {"participation_ratio", number(r.participation_ratio)},
        {"nesum", number(r.nesum)},
        {"alpha_req", number(r.alpha_req)},
        {"alpha_req_points", r.alpha_req_points},
        {"condition_number", number(r.condition_number)},
        {"lidar", r.lidar ? number(*r.lidar) : nlohmann::json(nullptr)},
        {"seconds", {{"read", read_s}, {"spectrum", spec_s}, {"lidar", lidar_s}}},
        {"peak_rss_mib", peak_rss_mib()}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << std::setprecision(10);
  std::cout << "file                    " << path << "\n"
            << "shape                   " << r.rows << " x " << r.cols << " (of " << r.input_rows
            << " rows, " << (sizeof(T) == 4 ? "float32" : "float64") << ", " << sp::to_string(r.method)
            << " path, " << ctx.threads() << " threads)\n"
            << "RankMe (eps " << params.eps << ")      " << r.rankme << "\n"
            << "RankMe eps 0            " << r.rankme_eps0 << "\n"
            << "RankMe eps 1e-5         " << r.rankme_eps1e5 << "\n"
            << "RankMe centred sigma^2  " << r.rankme_centred << "\n"
            << "RankMe normalised H/lnK " << r.rankme_normalised << "\n"
            << "numerical rank          " << r.numerical_rank << " (tolerance " << r.rank_tolerance << ")\n"
            << "stable rank             " << r.stable_rank << "\n"
            << "participation ratio     " << r.participation_ratio << "\n"
            << "NESum                   " << r.nesum << "\n"
            << "alpha-ReQ               " << r.alpha_req << " (" << r.alpha_req_points << " eigenvalues)\n"
            << "condition number        " << r.condition_number << "\n";
  if (r.lidar) std::cout << "LiDAR                   " << *r.lidar << "\n";
  std::cout << "time                    read " << read_s << " s, spectrum " << spec_s << " s";
  if (r.lidar) std::cout << ", LiDAR " << lidar_s << " s";
  std::cout << "\npeak memory             " << peak_rss_mib() << " MiB\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rankme: RankMe and its companions of an embedding matrix (.npy or CSV/TSV)"};
  std::string path, groups_path, method = "auto", subsample = "first", dtype = "float32";
  orchard::io::CsvOptions csv;
  sp::Params params;
  int threads = 0;
  std::int64_t group_size = 0, gaussian_rows = 0, gaussian_cols = 256;
  bool json = false, no_centred = false;
  std::string delimiter = ",";
  auto* file_opt = app.add_option("file", path,
                                  "Embeddings: .npy (any numeric dtype) or CSV/TSV, one row per sample");
  auto* gauss_opt = app.add_option("--gaussian", gaussian_rows,
                                   "Instead of a file: stream this many iid N(0,1) rows (seed --seed) "
                                   "through the Gram path, never holding them whole");
  app.add_option("--cols", gaussian_cols, "Columns of --gaussian")->capture_default_str();
  file_opt->excludes(gauss_opt);
  app.add_option("--dtype", dtype, "Compute from float32 or float64 values (float32: numpy's "
                 "matrix_rank tolerance of float32)")->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str();
  app.add_option("--method", method, "auto, svd (exact) or gram (streaming float64 Gram)")
      ->capture_default_str();
  app.add_option("--eps", params.eps, "RankMe epsilon")->capture_default_str();
  app.add_option("--max-rows", params.max_rows, "Rows used (0 = all)")->capture_default_str();
  app.add_option("--subsample", subsample, "first or random rows when there are more")
      ->capture_default_str();
  app.add_option("--seed", params.seed, "Seed of --subsample random")->capture_default_str();
  app.add_flag("--no-centred", no_centred,
               "Skip the centred covariance spectrum (NESum, participation ratio, alpha-ReQ, "
               "centred RankMe): one eigen/SVD solve instead of two");
  app.add_option("--threads", threads, "Threads (0 = all)")->capture_default_str();
  app.add_option("--groups", groups_path, "LiDAR: file (.npy/CSV) with one group label per row");
  app.add_option("--group-size", group_size, "LiDAR: consecutive rows form groups of this size");
  app.add_option("--lidar-delta", params.lidar_delta, "LiDAR: delta on the within-group diagonal")
      ->capture_default_str();
  app.add_option("--lidar-eps", params.lidar_eps, "LiDAR: epsilon of its effective rank")
      ->capture_default_str();
  app.add_flag("--header", csv.header, "CSV: the first line holds column names");
  app.add_option("--label-column", csv.label_column, "CSV: index of a label column to drop (-1 = none)")
      ->capture_default_str();
  app.add_option("--delimiter", delimiter, "CSV: field separator")->capture_default_str();
  app.add_flag("--json", json, "Print JSON instead of text");
  CLI11_PARSE(app, argc, argv);
  try {
    orchard::require(!path.empty() || gaussian_rows > 0, "file", "(none)",
                     "give an embeddings file or --gaussian N");
    orchard::require(gaussian_rows >= 0, "gaussian", gaussian_rows, "must be >= 0");
    orchard::require(gaussian_cols > 0, "cols", gaussian_cols, "must be > 0");
    orchard::require(delimiter.size() == 1, "delimiter", delimiter, "must be one character");
    orchard::require(group_size >= 0, "group-size", group_size, "must be >= 0");
    csv.delimiter = delimiter[0];
    params.method = sp::parse_method(method);
    params.subsample = sp::parse_subsample(subsample);
    params.centred = !no_centred;
    const orchard::Context ctx(threads);
    if (dtype == "float64") return run<double>(path, csv, params, ctx, groups_path, group_size, json,
                                                      gaussian_rows, gaussian_cols);
    return run<float>(path, csv, params, ctx, groups_path, group_size, json, gaussian_rows,
                      gaussian_cols);
  } catch (const orchard::Error& e) {
    std::cerr << "rankme: " << e.what() << "\n";
    return 2;
  }
}
