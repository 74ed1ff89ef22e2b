// gbnn_train: trains GBNN (and optionally the MLP baseline) on a CSV file or on Fashion-MNIST,
// prints the staged test score, writes it as an SVG curve, and exports the merged network.
//
//   gbnn_train --csv data.csv --label-column 4 --steps 50 --units 2 --svg curve.svg
//   gbnn_train --fashion-mnist /usr/share/datasets/fashion-mnist --max-train 5000 --mlp
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <orchard/core.hpp>
#include <orchard/core/io.hpp>
#include <orchard/gbnn.hpp>

using namespace orchard;
using Mat = gbnn::RowMatrix<float>;
using Vec = Eigen::VectorXf;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A polyline of score against step.
void write_svg(const std::string& path, const std::vector<double>& v, const std::string& label) {
  std::ofstream out(path);
  if (!out) throw IoError("cannot write '" + path + "'");
  const double W = 640, H = 400, L = 60, B = 40;
  double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
  if (hi - lo < 1e-12) hi = lo + 1;
  out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H << "'>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n"
      << "<text x='" << L << "' y='20' font-family='sans-serif' font-size='14'>" << label
      << " after each boosting step (" << lo << " .. " << hi << ")</text>\n"
      << "<line x1='" << L << "' y1='" << H - B << "' x2='" << W - 10 << "' y2='" << H - B
      << "' stroke='black'/>\n<line x1='" << L << "' y1='30' x2='" << L << "' y2='" << H - B
      << "' stroke='black'/>\n<polyline fill='none' stroke='steelblue' stroke-width='2' points='";
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double x = L + (W - 10 - L) * (v.size() == 1 ? 0.0 : double(i) / double(v.size() - 1));
    const double y = (H - B) - (H - B - 30) * (v[i] - lo) / (hi - lo);
    out << x << ',' << y << ' ';
  }
  out << "'/>\n<text x='" << L << "' y='" << H - 10
      << "' font-family='sans-serif' font-size='12'>step 1</text>\n<text x='" << W - 60
      << "' y='" << H - 10 << "' font-family='sans-serif' font-size='12'>step " << v.size()
      << "</text>\n</svg>\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train GBNN (gradient-boosted hidden units) and export one network"};
  std::string csv, test_csv, fmnist, svg, export_path, save_path;
  int label_column = -1, skip_rows = 0, threads = 0, report_every = 10;
  long max_train = 10000, max_test = 2000;
  double test_fraction = 0.2;
  bool regression = false, mlp = false, mlp_only = false, standardize = true, no_standardize = false;
  gbnn::Params p;
  p.steps = 50;
  p.units = 2;
  app.add_option("--csv", csv, "CSV file: features and one label column");
  app.add_option("--label-column", label_column, "Label column of the CSV (-1 = last)");
  app.add_option("--skip-rows", skip_rows, "Lines to skip at the top of the CSV");
  app.add_option("--test-fraction", test_fraction, "Share of CSV rows held out for testing")
      ->capture_default_str();
  app.add_option("--test-csv", test_csv, "Test rows from this CSV (same layout) instead of a split");
  app.add_flag("--no-standardize", no_standardize, "Use the CSV features as they are");
  app.add_option("--fashion-mnist", fmnist, "Folder with the Fashion-MNIST IDX files instead");
  app.add_option("--max-train", max_train, "Fashion-MNIST training rows")->capture_default_str();
  app.add_option("--max-test", max_test, "Fashion-MNIST test rows")->capture_default_str();
  app.add_flag("--regression", regression, "Regression (default: classification)");
  app.add_option("--steps", p.steps, "Boosting steps T")->capture_default_str();
  app.add_option("--units", p.units, "Hidden units per step J")->capture_default_str();
  app.add_option("--eta", p.eta, "Shrinkage")->capture_default_str();
  app.add_option("--subsample", p.subsample, "Row fraction per step")->capture_default_str();
  app.add_option("--max-iter", p.max_iter, "L-BFGS iterations per step")->capture_default_str();
  app.add_option("--alpha", p.alpha, "L2 penalty of the step networks")->capture_default_str();
  app.add_option("--seed", p.seed, "Seed")->capture_default_str();
  app.add_flag("--per-class-step", p.per_class_step, "One Newton step per class");
  bool float_kernels = false;
  app.add_flag("--no-int8-tiles", float_kernels,
               "Float kernels even for byte-coded features on a CPU with AMX");
  app.add_flag("--exact-reference", p.exact_reference, "Reproduce the gbnn package's choices");
  app.add_option("--threads", threads, "Threads (0 = all)")->capture_default_str();
  app.add_flag("--mlp", mlp, "Also train the MLP baseline (L-BFGS) with the same hidden units");
  app.add_flag("--mlp-only", mlp_only, "Train only the MLP baseline (steps x units hidden units)");
  app.add_option("--svg", svg, "Write the staged test score as an SVG curve");
  app.add_option("--export", export_path, "Write the merged network (JSON)");
  app.add_option("--save", save_path, "Write the GBNN model (JSON)");
  app.add_option("--report-every", report_every, "Print the staged score every N steps")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  p.int8_tiles = !float_kernels;
  p.task = regression ? gbnn::Task::regression : gbnn::Task::classification;

  try {
    Context ctx(threads);
    Mat Xtr, Xte;
    Vec ytr, yte;
    if (!fmnist.empty()) {
      auto fm = io::load_fashion_mnist(fmnist, max_train, max_test);
      Xtr = fm.X_train;
      Xte = fm.X_test;
      ytr = fm.y_train.cast<float>();
      yte = fm.y_test.cast<float>();
      standardize = false;
    } else if (!csv.empty()) {
      io::CsvOptions o;
      o.skip_rows = skip_rows;
      if (label_column < 0) {
        auto probe = io::read_csv<float>(csv, o);
        label_column = static_cast<int>(probe.X.cols()) - 1;
      }
      o.label_column = label_column;
      auto ds = io::read_csv<float>(csv, o);
      index_t n_test_rows = 0;
      if (!test_csv.empty()) {
        auto te = io::read_csv<float>(test_csv, o);
        n_test_rows = te.X.rows();
        ds.X.conservativeResize(ds.X.rows() + te.X.rows(), ds.X.cols());
        ds.X.bottomRows(te.X.rows()) = te.X;
        ds.y.conservativeResize(ds.y.size() + te.y.size());
        ds.y.tail(te.y.size()) = te.y;
      }
      const index_t n = ds.X.rows();
      std::vector<index_t> order(static_cast<std::size_t>(n));
      // The given test file's rows come last and stay the test set; otherwise a seeded split.
      index_t nte;
      if (n_test_rows > 0) {
        nte = n_test_rows;
        for (index_t i = 0; i < n; ++i)  // test rows first, in file order
          order[static_cast<std::size_t>(i)] = (i < nte) ? n - nte + i : i - nte;
      } else {
        for (index_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
        Rng(p.seed).shuffle(order.begin(), order.end());
        nte = std::max<index_t>(1, static_cast<index_t>(test_fraction * double(n)));
      }
      Xtr.resize(n - nte, ds.X.cols());
      ytr.resize(n - nte);
      Xte.resize(nte, ds.X.cols());
      yte.resize(nte);
      for (index_t i = 0; i < n; ++i) {
        const index_t src = order[static_cast<std::size_t>(i)];
        if (i < nte) {
          Xte.row(i) = ds.X.row(src);
          yte[i] = ds.y[src];
        } else {
          Xtr.row(i - nte) = ds.X.row(src);
          ytr[i - nte] = ds.y[src];
        }
      }
    } else {
      std::cerr << "give --csv FILE or --fashion-mnist DIR\n";
      return 2;
    }
    if (standardize && !no_standardize) {
      for (index_t j = 0; j < Xtr.cols(); ++j) {
        const float m = Xtr.col(j).mean();
        float sd = std::sqrt((Xtr.col(j).array() - m).square().mean());
        if (sd == 0) sd = 1;
        Xtr.col(j) = (Xtr.col(j).array() - m) / sd;
        Xte.col(j) = (Xte.col(j).array() - m) / sd;
      }
    }
    std::printf("train %ld x %ld, test %ld rows; T = %d steps x J = %d units, eta %.3g, "
                "subsample %.3g, %d threads\n",
                long(Xtr.rows()), long(Xtr.cols()), long(Xte.rows()), p.steps, p.units, p.eta,
                p.subsample, ctx.threads());
    gbnn::Model<float> model;
    index_t H = static_cast<index_t>(p.steps) * p.units;
    if (!mlp_only) {
    auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    model.fit(Xtr, ytr, p, ctx, [&](const gbnn::Progress& pr) {
      std::fprintf(stderr, "\r  step %d/%d  train loss %.5f  %.1f s", pr.step, pr.total,
                   pr.train_loss, pr.seconds);
      return true;
    });
    const double t_gbnn = seconds_since(t0);
    const double cpu_gbnn = double(std::clock() - c0) / CLOCKS_PER_SEC;
    std::fprintf(stderr, "\n");
    const auto staged = model.staged_score(Xte, yte, ctx);
    const char* what = regression ? "test MSE" : "test accuracy";
    for (std::size_t t = 0; t < staged.size(); ++t) {
      if ((t + 1) % static_cast<std::size_t>(std::max(1, report_every)) == 0 ||
          t + 1 == staged.size())
        std::printf("  step %4zu  %s %.4f\n", t + 1, what, staged[t]);
    }
    std::printf("GBNN: %s %.4f, trained in %.4f s (CPU %.4f s, all threads)\n", what,
                staged.back(), t_gbnn, cpu_gbnn);
    long evals = 0;
    for (long e : model.evaluations()) evals += e;
    std::printf("  L-BFGS objective evaluations: %ld (%.1f per step)\n", evals,
                double(evals) / double(model.n_steps()));
    const auto net = model.to_network();
    H = net.n_hidden();
    for (int pct : {25, 50}) {
      const index_t keep_steps = model.n_steps() - model.n_steps() * pct / 100;
      if (keep_steps < 1) continue;
      std::printf("  last %d%% of the %ld units switched off: %s %.4f\n", pct, long(H), what,
                  staged[static_cast<std::size_t>(keep_steps - 1)]);
    }
    if (!svg.empty()) write_svg(svg, staged, what);
    if (!export_path.empty()) net.save(export_path);
    if (!save_path.empty()) model.save(save_path);
    }
    const char* what = regression ? "test MSE" : "test accuracy";
    if (mlp || mlp_only) {
      gbnn::MlpParams mp;
      mp.task = p.task;
      mp.hidden = static_cast<int>(H);
      mp.seed = p.seed;
      gbnn::Mlp<float> m;
      auto t1 = std::chrono::steady_clock::now();
      const std::clock_t c1 = std::clock();
      m.fit(Xtr, ytr, mp, ctx);
      const double t_mlp = seconds_since(t1);
      const double cpu_mlp = double(std::clock() - c1) / CLOCKS_PER_SEC;
      const Vec pred = m.predict(Xte, ctx);
      double s = 0;
      for (index_t i = 0; i < pred.size(); ++i)
        s += regression ? double(pred[i] - yte[i]) * double(pred[i] - yte[i])
                        : (pred[i] == yte[i] ? 1.0 : 0.0);
      std::printf("MLP (L-BFGS, %ld units): %s %.4f, trained in %.4f s (CPU %.4f s, all threads)\n",
                  long(H), what, s / double(pred.size()), t_mlp, cpu_mlp);
      std::printf("  L-BFGS iterations: %d\n", m.iterations());
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
