// The tour of Orchard: one short section per family, on real data Debian packages ship.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <exception>
#include <iostream>
#include <orchard/core.hpp>

#include "tour.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Orchard tour: one section per algorithm family"};
  tour::Options opt;
  std::vector<std::string> only;
  app.add_option("--fashion-mnist", opt.fashion_mnist_dir, "Folder of the Fashion-MNIST IDX files")
      ->capture_default_str();
  app.add_option("--fortunes", opt.fortunes_dir, "Folder of the fortunes corpus")
      ->capture_default_str();
  app.add_option("--threads", opt.threads, "Threads (0 = all)")->capture_default_str();
  app.add_flag("--quick", opt.quick, "Small subsamples (smoke test)");
  app.add_option("--only", only, "Run only these sections (by name)");
  CLI11_PARSE(app, argc, argv);

  auto sections = tour::registry();
  std::stable_sort(sections.begin(), sections.end(),
                   [](const auto& a, const auto& b) { return a.order < b.order; });
  int failures = 0;
  for (const auto& s : sections) {
    if (!only.empty() && std::find(only.begin(), only.end(), s.name) == only.end()) continue;
    std::cout << "\n=== " << s.name << " ===\n";
    const auto t0 = std::chrono::steady_clock::now();
    try {
      s.run(opt);
    } catch (const std::exception& e) {
      std::cout << "  section failed: " << e.what() << "\n";
      ++failures;
    }
    const double sec =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "  (" << sec << " s)\n";
  }
  if (sections.empty()) std::cout << "no sections built\n";
  return failures == 0 ? 0 : 1;
}
