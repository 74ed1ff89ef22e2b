// libFuzzer driver: one binary for every Orchard fuzz target, chosen by the environment variable
// ORCHARD_FUZZ_TARGET (one of the names printed when it is missing). Built by clang with
// -fsanitize=fuzzer,address,undefined; see tests/fuzz/meson.build and docs/robustness.md.
#include <cstdio>
#include <cstdlib>

#include "fuzz_targets.hpp"

namespace {
orchard_fuzz::TargetFn g_target = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("ORCHARD_FUZZ_TARGET");
  const auto& all = orchard_fuzz::targets();
  const auto it = name ? all.find(name) : all.end();
  if (it == all.end()) {
    std::fprintf(stderr, "orchard_fuzz: set ORCHARD_FUZZ_TARGET to one of:");
    for (const auto& [n, fn] : all) std::fprintf(stderr, " %s", n.c_str());
    std::fprintf(stderr, "\n");
    std::exit(2);
  }
  g_target = it->second;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)g_target(data, size);
  return 0;
}
