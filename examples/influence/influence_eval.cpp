// influence_eval: compares influence methods on a data set with the evaluation harness
// (orchard::influence::eval) and prints each method's curve and the ranking.
//
//   influence_eval --data ../shared/data/lightgbm/binary.train --objective binary
//       --methods boostin,leaf_influence_sp,trex,leaf_sim,random --measure remove_single
//
// Data: CSV/TSV with the label in --label-column (default 0; LightGBM's example files), or
// LibSVM (--format libsvm). Rows are shuffled with --seed and split into train / validation /
// test (60 / 20 / 20 %).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <orchard/core/io/csv.hpp>
#include <orchard/core/io/libsvm.hpp>
#include <orchard/influence.hpp>
#include <sstream>

namespace inf = orchard::influence;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Compare training-data influence methods on a data set (orchard::influence::eval)"};
  std::string data, format = "tsv", objective = "binary", methods = "boostin,leaf_influence_sp,trex,leaf_sim,loss,random";
  std::string measure = "label_noise";
  std::int64_t label_column = 0, max_rows = 2000;
  int rounds = 50, depth = 4, threads = 0, n_test = 5, num_class = 0;
  double lr = 0.1, lambda = 1.0, noise = 0.4;
  std::uint64_t seed = 1;
  std::string fractions = "0.001,0.005,0.01,0.02,0.05";
  app.add_option("--data", data, "Data file")->required();
  app.add_option("--format", format, "tsv | csv | libsvm")->capture_default_str();
  app.add_option("--label-column", label_column, "Label column (csv/tsv)")->capture_default_str();
  app.add_option("--objective", objective, "regression | binary | multiclass")->capture_default_str();
  app.add_option("--num-class", num_class, "Classes (multiclass; 0 = from labels)")->capture_default_str();
  app.add_option("--methods", methods, "Comma-separated influence methods")->capture_default_str();
  app.add_option("--measure", measure, "remove_single | relabel_single | remove_set | label_noise")->capture_default_str();
  app.add_option("--fractions", fractions, "Comma-separated fractions of the training rows")->capture_default_str();
  app.add_option("--rounds", rounds, "Boosting rounds")->capture_default_str();
  app.add_option("--depth", depth, "Tree depth")->capture_default_str();
  app.add_option("--learning-rate", lr, "Learning rate")->capture_default_str();
  app.add_option("--lambda", lambda, "L2 leaf regularisation")->capture_default_str();
  app.add_option("--max-rows", max_rows, "Use at most this many rows (0 = all)")->capture_default_str();
  app.add_option("--n-test", n_test, "Test rows for the single-row measures")->capture_default_str();
  app.add_option("--noise", noise, "label_noise: fraction of labels flipped")->capture_default_str();
  app.add_option("--threads", threads, "Threads (0 = all)")->capture_default_str();
  app.add_option("--seed", seed, "Seed of the split, test rows and noise")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    orchard::io::Dataset<double> ds;
    if (format == "libsvm") {
      ds = orchard::io::read_libsvm<double>(data);
    } else {
      orchard::io::CsvOptions co;
      co.delimiter = format == "csv" ? ',' : '\t';
      co.label_column = label_column;
      ds = orchard::io::read_csv<double>(data, co);
    }
    const auto n_all = static_cast<std::int64_t>(ds.X.rows());
    std::vector<std::int64_t> perm(static_cast<std::size_t>(n_all));
    for (std::int64_t i = 0; i < n_all; ++i) perm[static_cast<std::size_t>(i)] = i;
    orchard::Rng rng(seed);
    rng.shuffle(perm.begin(), perm.end());
    const std::int64_t n = max_rows > 0 ? std::min(max_rows, n_all) : n_all;
    const std::int64_t ntr = n * 6 / 10, nva = n / 5, nte = n - ntr - nva;
    auto take = [&](std::int64_t a, std::int64_t b, RowMatrix& X, Eigen::VectorXd& y) {
      X.resize(b - a, ds.X.cols());
      y.resize(b - a);
      for (std::int64_t i = a; i < b; ++i) {
        X.row(i - a) = ds.X.row(perm[static_cast<std::size_t>(i)]);
        y[i - a] = ds.y[perm[static_cast<std::size_t>(i)]];
      }
    };
    RowMatrix Xtr, Xva, Xte;
    Eigen::VectorXd ytr, yva, yte;
    take(0, ntr, Xtr, ytr);
    take(ntr, ntr + nva, Xva, yva);
    take(ntr + nva, n, Xte, yte);

    inf::eval::Options o;
    o.train.objective = objective;
    o.train.num_class = num_class;
    o.train.num_rounds = rounds;
    o.train.max_depth = depth;
    o.train.learning_rate = lr;
    o.train.lambda_l2 = lambda;
    o.train.threads = threads;
    o.threads = threads;
    o.influence.threads = threads;
    o.influence.learning_rate = lr;
    o.influence.lambda_l2 = lambda;
    o.influence.train = o.train;
    o.n_test = n_test;
    o.noise_fraction = noise;
    o.seed = seed;
    o.fractions.clear();
    for (const auto& f : split_list(fractions)) o.fractions.push_back(std::stod(f));
    const auto mv = orchard::cview<double>(Xtr);
    const auto yv = orchard::ConstVectorView<double>(ytr.data(), ytr.size());
    orchard::gbdt::Model model;
    if (measure != "label_noise") model = orchard::gbdt::train(o.train, mv, yv);
    std::printf("data %s: %lld train / %lld validation / %lld test rows, %lld features; measure %s\n", data.c_str(),
                static_cast<long long>(ntr), static_cast<long long>(nva), static_cast<long long>(nte),
                static_cast<long long>(Xtr.cols()), measure.c_str());
    std::printf("%-20s", "method");
    for (double f : o.fractions) std::printf(" %9.3f%%", 100 * f);
    std::printf("   seconds\n");
    std::vector<inf::eval::Curve> curves;
    for (const auto& m : split_list(methods)) {
      const auto t0 = std::chrono::steady_clock::now();
      inf::eval::Curve c;
      const auto xt = orchard::cview<double>(Xte);
      const auto ytv = orchard::ConstVectorView<double>(yte.data(), yte.size());
      if (measure == "remove_single") {
        c = inf::eval::remove_single(m, model, mv, yv, xt, ytv, o);
      } else if (measure == "relabel_single") {
        c = inf::eval::relabel_single(m, model, mv, yv, xt, ytv, o);
      } else if (measure == "remove_set") {
        c = inf::eval::remove_set(m, model, mv, yv, orchard::cview<double>(Xva),
                                  orchard::ConstVectorView<double>(yva.data(), yva.size()), xt, ytv, o);
      } else if (measure == "label_noise") {
        c = inf::eval::label_noise(m, mv, yv, o);
      } else {
        throw orchard::InvalidArgument("orchard: argument 'measure' = " + measure +
                                       ": expected remove_single, relabel_single, remove_set or label_noise");
      }
      const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("%-20s", m.c_str());
      for (double v : c.value) std::printf(" %10.5f", v);
      std::printf(" %9.2f\n", sec);
      curves.push_back(c);
    }
    std::printf("ranking (mean over fractions, larger = better):\n");
    int pos = 1;
    for (const auto& [m, v] : inf::eval::rank(curves)) std::printf("  %d. %-20s %.5f\n", pos++, m.c_str(), v);
  } catch (const std::exception& e) {
    std::cerr << "influence_eval: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
