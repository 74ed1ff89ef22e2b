// fashion_mnist_influence: trains a GBDT on Fashion-MNIST (10 classes), takes misclassified test
// images and writes an SVG grid: each row shows the test image, its k most helpful and k most
// harmful training images by BoostIn, with their labels. Then prints the label-noise detection
// curve (40 % of the training labels flipped, rows ranked by self-influence).
//
//   fashion_mnist_influence --out influence.svg --train-rows 3000 --rounds 30
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <orchard/core/io/fashion_mnist.hpp>
#include <orchard/influence.hpp>

namespace inf = orchard::influence;
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {
const char* kNames[] = {"T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"};

void image(std::ofstream& out, const double* px, double x0, double y0, double cell) {
  for (int r = 0; r < 28; ++r) {
    for (int c = 0; c < 28; ++c) {
      const int g = 255 - static_cast<int>(std::lround(255 * std::clamp(px[r * 28 + c], 0.0, 1.0)));
      if (g == 255) continue;
      out << "<rect x='" << x0 + c * cell << "' y='" << y0 + r * cell << "' width='" << cell << "' height='" << cell
          << "' fill='rgb(" << g << ',' << g << ',' << g << ")'/>";
    }
  }
  out << "\n";
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Most helpful / harmful training images of misclassified Fashion-MNIST test images (BoostIn)"};
  std::string dir = "/usr/share/datasets/fashion-mnist", out_path = "influence.svg";
  int train_rows = 3000, rounds = 30, depth = 4, k = 3, n_show = 4, threads = 0;
  app.add_option("--fashion-mnist", dir, "Folder of the IDX files")->capture_default_str();
  app.add_option("--out", out_path, "SVG file to write")->capture_default_str();
  app.add_option("--train-rows", train_rows, "Training images")->capture_default_str();
  app.add_option("--rounds", rounds, "Boosting rounds")->capture_default_str();
  app.add_option("--depth", depth, "Tree depth")->capture_default_str();
  app.add_option("-k", k, "Helpful / harmful images per test image")->capture_default_str();
  app.add_option("--show", n_show, "Misclassified test images shown")->capture_default_str();
  app.add_option("--threads", threads, "Threads (0 = all)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const auto fm = orchard::io::load_fashion_mnist(dir, train_rows, 1000);
    const RowMatrix X = fm.X_train.cast<double>(), Xt = fm.X_test.cast<double>();
    const Eigen::VectorXd y = fm.y_train.cast<double>(), yt = fm.y_test.cast<double>();
    orchard::gbdt::Params p;
    p.objective = "multiclass";
    p.num_class = 10;
    p.num_rounds = rounds;
    p.max_depth = depth;
    p.learning_rate = 0.3;
    p.threads = threads;
    const auto yv = orchard::ConstVectorView<double>(y.data(), y.size());
    const auto model = orchard::gbdt::train(p, orchard::cview<double>(X), yv);
    const Eigen::VectorXi pred = model.predict_class(orchard::cview<double>(Xt), -1, threads);
    std::vector<std::int64_t> wrong;
    for (std::int64_t e = 0; e < yt.size() && static_cast<int>(wrong.size()) < n_show; ++e) {
      if (pred[e] != static_cast<int>(yt[e])) wrong.push_back(e);
    }
    std::printf("trained on %d images, %d rounds; showing %zu misclassified test images\n", train_rows, rounds, wrong.size());
    inf::Params ip;
    ip.threads = threads;
    const auto ex = inf::make("boostin", model, orchard::cview<double>(X), yv, ip);
    RowMatrix Xw(static_cast<std::int64_t>(wrong.size()), Xt.cols());
    Eigen::VectorXd yw(Xw.rows());
    for (std::int64_t q = 0; q < Xw.rows(); ++q) {
      Xw.row(q) = Xt.row(wrong[static_cast<std::size_t>(q)]);
      yw[q] = yt[wrong[static_cast<std::size_t>(q)]];
    }
    const auto tk = ex.top_k(orchard::cview<double>(Xw), orchard::ConstVectorView<double>(yw.data(), yw.size()), k);
    const double cell = 3, w = 28 * cell, gap = 12, lab = 14;
    std::ofstream out(out_path);
    if (!out) throw orchard::IoError("cannot write " + out_path);
    const double W = (1 + 2 * k) * (w + gap) + 2 * gap, H = static_cast<double>(Xw.rows()) * (w + lab + gap) + 30;
    out << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
        << "' font-family='sans-serif' font-size='10'>\n<rect width='100%' height='100%' fill='white'/>\n";
    out << "<text x='4' y='14'>test (true / predicted)</text><text x='" << (w + 2 * gap) << "' y='14'>most helpful</text>"
        << "<text x='" << (1 + k) * (w + gap) + 2 * gap << "' y='14'>most harmful</text>\n";
    for (std::int64_t q = 0; q < Xw.rows(); ++q) {
      const double y0 = 24 + static_cast<double>(q) * (w + lab + gap);
      image(out, Xw.row(q).data(), 4, y0, cell);
      out << "<text x='4' y='" << y0 + w + 11 << "'>" << kNames[static_cast<int>(yw[q])] << " / "
          << kNames[pred[wrong[static_cast<std::size_t>(q)]]] << "</text>\n";
      std::printf("test #%lld %s predicted %s | helpful:", static_cast<long long>(wrong[static_cast<std::size_t>(q)]),
                  kNames[static_cast<int>(yw[q])], kNames[pred[wrong[static_cast<std::size_t>(q)]]]);
      for (int side = 0; side < 2; ++side) {
        for (int j = 0; j < k; ++j) {
          const auto i = side == 0 ? tk.helpful_index(q, j) : tk.harmful_index(q, j);
          const double x0 = (1 + side * k + j) * (w + gap) + (side + 1) * gap;
          image(out, X.row(i).data(), x0, y0, cell);
          out << "<text x='" << x0 << "' y='" << y0 + w + 11 << "'>" << kNames[static_cast<int>(y[i])] << "</text>\n";
          std::printf(" %s", kNames[static_cast<int>(y[i])]);
        }
        if (side == 0) std::printf(" | harmful:");
      }
      std::printf("\n");
    }
    out << "</svg>\n";
    std::printf("wrote %s\n", out_path.c_str());
    inf::eval::Options eo;
    eo.train = p;
    eo.threads = threads;
    eo.influence.threads = threads;
    eo.fractions = {0.05, 0.1, 0.2, 0.3, 0.4};
    const std::int64_t nn = std::min<std::int64_t>(X.rows(), 1500);
    const RowMatrix Xn = X.topRows(nn);
    const Eigen::VectorXd yn = y.head(nn);
    std::printf("label noise: 40%% of %lld labels flipped; fraction of the flipped rows found when checking the top x%%\n",
                static_cast<long long>(nn));
    std::printf("%-10s", "method");
    for (double f : eo.fractions) std::printf(" %6.0f%%", 100 * f);
    std::printf("\n");
    for (const char* m : {"boostin", "leaf_sim", "loss", "random"}) {
      const auto c = inf::eval::label_noise(m, orchard::cview<double>(Xn), orchard::ConstVectorView<double>(yn.data(), nn), eo);
      std::printf("%-10s", m);
      for (double v : c.value) std::printf(" %7.3f", v);
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::cerr << "fashion_mnist_influence: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
