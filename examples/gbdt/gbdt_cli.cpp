// orchard_gbdt: train, predict, evaluate and import gradient-boosted tree models from the shell.
//   orchard_gbdt train    --data train.tsv --label 0 --objective binary --rounds 100 --model m.json
//   orchard_gbdt predict  --data test.tsv --label 0 --model m.json --out pred.csv [--raw]
//   orchard_gbdt evaluate --data test.tsv --label 0 --model m.json
//   orchard_gbdt import   --xgboost m.json | --lightgbm m.txt  --model ours.json
// Built with MPI (Meson option mpi), `train --distributed` trains data-parallel under mpirun:
//   mpirun -np 4 orchard_gbdt train --distributed --data train.tsv --label 0 --objective binary
// Each rank reads its row range of --data (or its own file when the path holds "{rank}", e.g.
// part-{rank}.tsv); rank 0 writes the model and reports seconds and bytes sent per round.
// Data: .csv / .tsv (label column index, -1 = none), .svm/.libsvm/.txt (LibSVM), .npy (features,
// labels from --labels y.npy), IDX (features, labels from --labels).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <orchard/core/io/csv.hpp>
#include <orchard/core/io/idx.hpp>
#include <orchard/core/io/libsvm.hpp>
#include <orchard/core/io/npy.hpp>
#include <orchard/gbdt.hpp>
#include <string>
#ifdef ORCHARD_WITH_MPI
#include <orchard/gbdt/distributed.hpp>
#endif

using namespace orchard;

namespace {
bool ends_with(const std::string& s, const std::string& e) {
  return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
}

io::Dataset<double> load(const std::string& path, long label, const std::string& labels_path) {
  io::Dataset<double> ds;
  // Files without a known extension: tab-separated without ':' tokens is TSV, else LibSVM.
  bool tsv = ends_with(path, ".tsv");
  if (!tsv && !ends_with(path, ".csv") && !ends_with(path, ".npy") && path.find("idx") == std::string::npos) {
    std::ifstream in(path);
    std::string first;
    std::getline(in, first);
    tsv = first.find('\t') != std::string::npos && first.find(':') == std::string::npos;
  }
  if (ends_with(path, ".csv") || tsv) {
    io::CsvOptions o;
    o.label_column = label;
    ds = tsv ? io::read_tsv<double>(path, o) : io::read_csv<double>(path, o);
  } else if (ends_with(path, ".npy")) {
    ds.X = io::read_npy<double>(path);
  } else if (ends_with(path, "idx3-ubyte") || ends_with(path, "idx3-ubyte.gz")) {
    ds.X = io::read_idx<double>(path);
  } else {
    ds = io::read_libsvm<double>(path);
  }
  if (!labels_path.empty()) {
    const auto y = ends_with(labels_path, ".npy") ? io::read_npy<double>(labels_path) : io::read_idx<double>(labels_path);
    ds.y = Eigen::Map<const Eigen::VectorXd>(y.data(), y.size());
  }
  return ds;
}

void progress_bar(const gbdt::Progress& p) {
  const int width = 30, done = p.round * width / std::max(1, p.num_rounds);
  std::fprintf(stderr, "\r[%.*s%*s] %d/%d  %.1fs", done, "##############################", width - done, "",
               p.round, p.num_rounds, p.seconds);
  if (!std::isnan(p.valid_metric)) std::fprintf(stderr, "  valid %.5f (best round %d)", p.valid_metric, p.best_round);
  if (p.round == p.num_rounds) std::fprintf(stderr, "\n");
}

void report(const gbdt::Model& m, const io::Dataset<double>& ds) {
  const Eigen::MatrixXd raw = m.predict_raw(ds.X);
  const auto n = static_cast<std::size_t>(ds.y.size());
  std::vector<double> F(n * static_cast<std::size_t>(m.num_class));
  for (std::size_t i = 0; i < n; ++i) {
    for (int k = 0; k < m.num_class; ++k) F[i * m.num_class + k] = raw(static_cast<Eigen::Index>(i), k);
  }
  using gbdt::Metric;
  std::vector<Metric> ms;
  if (m.objective == gbdt::Objective::squared_error) ms = {Metric::rmse};
  if (m.objective == gbdt::Objective::logistic) ms = {Metric::auc, Metric::logloss, Metric::error};
  if (m.objective == gbdt::Objective::softmax) ms = {Metric::mlogloss, Metric::merror};
  for (auto mt : ms) {
    std::cout << gbdt::to_string(mt) << " " << gbdt::evaluate(mt, m.objective, F.data(), ds.y.data(), n, m.num_class) << "\n";
  }
}
#ifdef ORCHARD_WITH_MPI
// `train --distributed`: every rank loads its shard, trains, rank 0 saves and reports.
int train_distributed(const gbdt::Params& p, const std::string& data, long label, const std::string& labels,
                      const std::string& valid, const std::string& model, const std::string& reduction,
                      bool quiet) {
  MPI_Init(nullptr, nullptr);
  int rc = 0;
  {
    gbdt::Communicator comm(MPI_COMM_WORLD);
    try {
      if (reduction != "ordered" && reduction != "allreduce") {
        throw InvalidArgument("orchard: argument 'reduction' = " + reduction + ": expected ordered or allreduce");
      }
      comm.set_reduction(reduction == "ordered" ? gbdt::Reduction::ordered : gbdt::Reduction::allreduce);
      auto reader = [&](const std::string& f) { return load(f, label, labels); };
      const auto ds = gbdt::read_shard<double>(comm, data, reader);
      io::Dataset<double> vs;
      if (!valid.empty()) vs = gbdt::read_shard<double>(comm, valid, [&](const std::string& f) { return load(f, label, ""); });
      const auto rows = comm.allgather<std::int64_t>(ds.X.rows());
      comm.reset_stats();
      MPI_Barrier(MPI_COMM_WORLD);
      const auto t0 = std::chrono::steady_clock::now();
      auto m = gbdt::train_distributed(comm, p, ds.X, ds.y, vs.X, vs.y, [&](const gbdt::Progress& g) {
        if (!quiet && comm.rank() == 0) progress_bar(g);
        return true;
      });
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto bytes = comm.allgather<std::uint64_t>(comm.bytes_sent());
      const auto calls = comm.calls();
      if (comm.rank() == 0) {
        if (!quiet) std::fprintf(stderr, "\n");
        m.save(model);
        std::int64_t n = 0;
        std::uint64_t total = 0;
        for (auto r : rows) n += r;
        for (auto b : bytes) total += b;
        const double R = std::max(1, m.num_rounds());
        std::cout << "trained " << m.num_rounds() << " rounds on " << n << " x " << ds.X.cols() << " over "
                  << comm.size() << " ranks in " << s << " s -> " << model << "\n";
        std::cout << "per round: " << s / R << " s, " << static_cast<double>(total) / comm.size() / R
                  << " bytes sent per rank, " << static_cast<double>(calls) / R << " collectives (" << reduction
                  << ")\n";
      }
    } catch (const Error& e) {
      if (comm.rank() == 0) std::cerr << "error: " << e.what() << "\n";
      rc = 1;
    }
  }
  MPI_Finalize();
  return rc;
}
#else
int train_distributed(const gbdt::Params&, const std::string&, long, const std::string&, const std::string&,
                      const std::string&, const std::string&, bool) {
  return 1;
}
#endif
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Orchard gradient-boosted decision trees"};
  app.require_subcommand(1);
  std::string data, model = "model.json", out, labels, valid, xgb_path, lgb_path;
  long label = 0;
  gbdt::Params p;
  bool raw = false, quiet = false, distributed = false;
  std::string reduction = "ordered";

  auto* tr = app.add_subcommand("train", "Train a model and write it as JSON");
  tr->add_option("--data", data, "Training data (.csv/.tsv/LibSVM/.npy/IDX)")->required();
  tr->add_option("--label", label, "Label column of CSV/TSV (-1 = none)")->capture_default_str();
  tr->add_option("--labels", labels, "Labels file for .npy / IDX features");
  tr->add_option("--valid", valid, "Validation data (same format) for early stopping");
  tr->add_option("--model", model, "Output model file")->capture_default_str();
  tr->add_option("--objective", p.objective, "regression | binary | multiclass")->capture_default_str();
  tr->add_option("--rounds", p.num_rounds, "Boosting rounds")->capture_default_str();
  tr->add_option("--learning-rate", p.learning_rate, "Shrinkage")->capture_default_str();
  tr->add_option("--growth", p.growth, "depthwise | leafwise | oblivious")->capture_default_str();
  tr->add_option("--max-depth", p.max_depth, "Tree depth")->capture_default_str();
  tr->add_option("--num-leaves", p.num_leaves, "Leaves (leafwise)")->capture_default_str();
  tr->add_option("--min-child-weight", p.min_child_weight, "Minimum hessian per child")->capture_default_str();
  tr->add_option("--min-data-in-leaf", p.min_data_in_leaf, "Minimum rows per child")->capture_default_str();
  tr->add_option("--lambda-l2", p.lambda_l2, "L2 regularisation")->capture_default_str();
  tr->add_option("--lambda-l1", p.lambda_l1, "L1 regularisation")->capture_default_str();
  tr->add_option("--subsample", p.subsample, "Row fraction per round")->capture_default_str();
  tr->add_option("--colsample", p.colsample_bytree, "Feature fraction per tree")->capture_default_str();
  tr->add_option("--max-bin", p.max_bin, "Bins per feature")->capture_default_str();
  tr->add_option("--early-stopping", p.early_stopping_rounds, "Rounds without improvement")->capture_default_str();
  tr->add_option("--metric", p.eval_metric, "rmse | logloss | auc | error | mlogloss | merror");
  tr->add_option("--threads", p.threads, "Threads (0 = all)")->capture_default_str();
  tr->add_option("--seed", p.seed, "Seed")->capture_default_str();
  tr->add_flag("--quiet", quiet, "No progress bar");
#ifdef ORCHARD_WITH_MPI
  tr->add_flag("--distributed", distributed, "Data-parallel training over MPI (run under mpirun)");
  tr->add_option("--reduction", reduction, "Histogram sum: ordered (deterministic) | allreduce")
      ->capture_default_str();
#endif

  auto* pr = app.add_subcommand("predict", "Predict with a model");
  pr->add_option("--data", data, "Data")->required();
  pr->add_option("--label", label, "Label column of CSV/TSV (-1 = none)")->capture_default_str();
  pr->add_option("--model", model, "Model file")->capture_default_str();
  pr->add_option("--out", out, "Output CSV (default stdout)");
  pr->add_flag("--raw", raw, "Raw margins instead of values/probabilities");
  pr->add_option("--threads", p.threads, "Threads (0 = all)")->capture_default_str();

  auto* ev = app.add_subcommand("evaluate", "Metrics of a model on labelled data");
  ev->add_option("--data", data, "Data")->required();
  ev->add_option("--label", label, "Label column of CSV/TSV")->capture_default_str();
  ev->add_option("--labels", labels, "Labels file for .npy / IDX features");
  ev->add_option("--model", model, "Model file")->capture_default_str();

  auto* im = app.add_subcommand("import", "Convert an XGBoost JSON or LightGBM text model");
  auto* ox = im->add_option("--xgboost", xgb_path, "XGBoost model (save_model('m.json'))");
  auto* ol = im->add_option("--lightgbm", lgb_path, "LightGBM model (save_model('m.txt'))");
  ox->excludes(ol);
  im->add_option("--model", model, "Output model file")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  try {
    if (tr->parsed() && distributed) {
      return train_distributed(p, data, label, labels, valid, model, reduction, quiet);
    }
    if (tr->parsed()) {
      auto ds = load(data, label, labels);
      io::Dataset<double> vs;
      if (!valid.empty()) vs = load(valid, label, "");
      const auto t0 = std::chrono::steady_clock::now();
      auto m = gbdt::train(p, ds.X, ds.y, vs.X, vs.y, [&](const gbdt::Progress& g) {
        if (!quiet) progress_bar(g);
        return true;
      });
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!quiet) std::fprintf(stderr, "\n");
      m.save(model);
      std::cout << "trained " << m.num_rounds() << " rounds on " << ds.X.rows() << " x " << ds.X.cols()
                << " in " << s << " s -> " << model << "\n";
    } else if (pr->parsed()) {
      auto ds = load(data, label, "");
      auto m = gbdt::Model::load(model);
      const auto t0 = std::chrono::steady_clock::now();
      const Eigen::MatrixXd r = raw ? m.predict_raw(ds.X, -1, p.threads) : m.predict(ds.X, -1, p.threads);
      std::cerr << "predicted " << r.rows() << " rows in "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
      std::ofstream file;
      if (!out.empty()) file.open(out);
      std::ostream& os = out.empty() ? std::cout : file;
      os.precision(17);
      for (Eigen::Index i = 0; i < r.rows(); ++i) {
        for (Eigen::Index k = 0; k < r.cols(); ++k) os << (k ? "," : "") << r(i, k);
        os << "\n";
      }
    } else if (ev->parsed()) {
      auto ds = load(data, label, labels);
      report(gbdt::Model::load(model), ds);
    } else if (im->parsed()) {
      if (xgb_path.empty() && lgb_path.empty()) throw InvalidArgument("import needs --xgboost or --lightgbm");
      auto m = xgb_path.empty() ? gbdt::import_lightgbm(lgb_path) : gbdt::import_xgboost(xgb_path);
      m.save(model);
      std::cout << "imported " << m.source << " model: " << m.trees.size() << " trees, "
                << m.num_features << " features -> " << model << "\n";
    }
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
