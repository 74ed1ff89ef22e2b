#pragma once
// A tour section registers itself at start-up; main() runs them in family order.
#include <functional>
#include <string>
#include <vector>

namespace tour {

struct Options {
  std::string fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";
  std::string fortunes_dir = "/usr/share/games/fortunes";
  int threads = 0;
  bool quick = false;  ///< smaller subsamples, for smoke tests
};

struct Section {
  int order;  ///< position in the tour (families in DESIGN.md order)
  std::string name;
  std::function<void(const Options&)> run;
};

inline std::vector<Section>& registry() {
  static std::vector<Section> sections;
  return sections;
}

struct Register {
  Register(int order, std::string name, std::function<void(const Options&)> fn) {
    registry().push_back({order, std::move(name), std::move(fn)});
  }
};

}  // namespace tour
