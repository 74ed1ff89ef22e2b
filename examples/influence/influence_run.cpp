// influence_run: loads a model (Orchard JSON, XGBoost JSON or LightGBM text) and CSV data,
// runs influence methods and writes each local-influence matrix (n_train x n_test) and the
// self-influence as CSV, printing fit / local timings. bench/compare/influence.py drives it to
// compare with tree-influence on the same model and rows.
//
//   influence_run --model m.txt --format lightgbm --train train.csv --test test.csv
//       --methods boostin,leaf_influence_sp,leaf_sim,trex --out outdir
// CSV files: label in the first column, no header.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <orchard/core/io/csv.hpp>
#include <orchard/gbdt.hpp>
#include <orchard/influence.hpp>
#include <sstream>

namespace inf = orchard::influence;

namespace {
void write_csv(const std::string& path, const Eigen::MatrixXd& M) {
  std::ofstream out(path);
  if (!out) throw orchard::IoError("orchard: cannot write " + path);
  out.precision(17);
  for (Eigen::Index i = 0; i < M.rows(); ++i) {
    for (Eigen::Index j = 0; j < M.cols(); ++j) out << (j ? "," : "") << M(i, j);
    out << "\n";
  }
}
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run orchard influence methods on a model and data, write CSV results"};
  std::string model_path, format = "orchard", train, test, methods = "boostin", out = ".", kernel = "lpw";
  int threads = 0, reps = 1;
  double lr = std::numeric_limits<double>::quiet_NaN(), lambda = std::numeric_limits<double>::quiet_NaN();
  bool no_write = false, self = false;
  app.add_option("--model", model_path, "Model file")->required();
  app.add_option("--format", format, "orchard | xgboost | lightgbm")->capture_default_str();
  app.add_option("--train", train, "Training CSV (label first)")->required();
  app.add_option("--test", test, "Test CSV (label first)")->required();
  app.add_option("--methods", methods, "Comma-separated methods")->capture_default_str();
  app.add_option("--kernel", kernel, "TREX kernel")->capture_default_str();
  app.add_option("--learning-rate", lr, "eta (default: recovered from the leaves)");
  app.add_option("--lambda", lambda, "lambda (default: recovered from the leaves)");
  app.add_option("--threads", threads, "Threads (0 = all)")->capture_default_str();
  app.add_option("--repeat", reps, "Repeat local() this many times (timing)")->capture_default_str();
  app.add_option("--out", out, "Output folder")->capture_default_str();
  app.add_flag("--no-write", no_write, "Only time, write nothing");
  app.add_flag("--self", self, "Also compute and write self-influence");
  CLI11_PARSE(app, argc, argv);
  try {
    orchard::gbdt::Model model;
    if (format == "lightgbm") {
      model = orchard::gbdt::import_lightgbm(model_path);
    } else if (format == "xgboost") {
      model = orchard::gbdt::import_xgboost(model_path);
    } else {
      model = orchard::gbdt::Model::load(model_path);
    }
    orchard::io::CsvOptions co;
    co.label_column = 0;
    const auto tr = orchard::io::read_csv<double>(train, co), te = orchard::io::read_csv<double>(test, co);
    inf::Params p;
    p.threads = threads;
    p.learning_rate = lr;
    p.lambda_l2 = lambda;
    p.kernel = kernel;
    std::stringstream ss(methods);
    for (std::string m; std::getline(ss, m, ',');) {
      if (m.empty()) continue;
      auto t0 = std::chrono::steady_clock::now();
      const auto ex = inf::make(m, model, orchard::cview<double>(tr.X),
                                orchard::ConstVectorView<double>(tr.y.data(), tr.y.size()), p);
      const double fit = since(t0);
      t0 = std::chrono::steady_clock::now();
      Eigen::MatrixXd I;
      for (int r = 0; r < reps; ++r) {
        I = ex.local(orchard::cview<double>(te.X), orchard::ConstVectorView<double>(te.y.data(), te.y.size()));
      }
      const double loc = since(t0) / reps;
      std::printf("%s fit_s=%.6f local_s=%.6f per_row_ms=%.6f eta=%.9g lambda=%.9g\n", m.c_str(), fit, loc,
                  1e3 * loc / static_cast<double>(te.X.rows()), ex.learning_rate(), ex.lambda_l2());
      if (!no_write) write_csv(out + "/" + m + ".csv", I);
      if (self) {
        t0 = std::chrono::steady_clock::now();
        const Eigen::MatrixXd s = ex.self();
        std::printf("%s self_s=%.6f\n", m.c_str(), since(t0));
        if (!no_write) write_csv(out + "/" + m + "_self.csv", s);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "influence_run: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
