// The one compiled doctest main of every test executable. `--orchard-realdata` runs only the
// test suite "realdata" and exits 77 (Meson's "skipped") when the shared data folder is absent;
// without it the realdata cases are excluded, so the same binary serves both Meson suites.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "orchard_test.hpp"

int main(int argc, char** argv) {
  bool realdata = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--orchard-realdata") == 0) {
      realdata = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  if (realdata && !std::filesystem::is_directory(orchard_test::data_dir())) {
    std::cout << "realdata: " << orchard_test::data_dir() << " is absent, skipping\n";
    return 77;
  }
  doctest::Context context(static_cast<int>(args.size()), args.data());
  if (realdata) {
    context.setOption("test-suite", "realdata");
  } else {
    context.addFilter("test-suite-exclude", "realdata");
  }
  const int rc = context.run();
  if (realdata && rc == 0 && orchard_test::skipped_count() > 0 && orchard_test::ran_count() == 0) {
    return 77;
  }
  return rc;
}
