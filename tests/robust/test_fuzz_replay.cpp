// Replays every seed input (tests/fuzz/corpus/<target>/) and every crash reproducer the fuzzer
// found (tests/fuzz/regressions/<target>/) through the same fuzz targets, compiled by the project
// compiler: each must end in success or a clean orchard::Error, never a crash. The seeds are
// valid files, so each target must also accept every one of its own seeds.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <orchard_test.hpp>

#include "../fuzz/fuzz_targets.hpp"

#ifndef ORCHARD_FUZZ_DIR
#error "ORCHARD_FUZZ_DIR (the source folder tests/fuzz) must be defined"
#endif

namespace {

std::vector<std::filesystem::path> inputs(const std::string& kind, const std::string& target) {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path dir = std::filesystem::path(ORCHARD_FUZZ_DIR) / kind / target;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("fuzz seeds and crash reproducers replay without a crash") {
  const auto& all = orchard_fuzz::targets();
  REQUIRE(all.size() == 12);
  for (const auto& [name, fn] : all) {
    const auto seeds = inputs("corpus", name);
    CHECK_MESSAGE(!seeds.empty(), "no seed corpus for fuzz target ", name);
    for (const auto& f : seeds) {  // valid files: each must be accepted
      INFO("target ", name, ", seed ", f.string());
      const std::string b = orchard_test::read_text(f);
      CHECK(fn(reinterpret_cast<const std::uint8_t*>(b.data()), b.size()));
    }
    for (const auto& f : inputs("regressions", name)) {  // accepted or cleanly rejected
      INFO("target ", name, ", reproducer ", f.string());
      const std::string b = orchard_test::read_text(f);
      (void)fn(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
    }
  }
}
