#pragma once
// The byte-consuming entry points of Orchard, as fuzz targets. One target = one function that
// feeds arbitrary bytes to a reader or model loader and, when the input is accepted, exercises the
// result (predict, save -> load round trip). The only acceptable failure is an orchard::Error;
// anything else (another exception, a crash, a sanitizer report, a round trip that changes the
// predictions) is a bug, reported by aborting.
//
// These files are plain C++: the libFuzzer driver (fuzz_main.cpp, clang) and the regression
// replay in the unit suite (tests/robust/test_fuzz_replay.cpp, g++) both call the same targets.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <unistd.h>

#include <orchard/core/error.hpp>

namespace orchard_fuzz {

/// Returns true when the input was accepted (loaded / parsed), false when cleanly rejected.
using TargetFn = bool (*)(const std::uint8_t* data, std::size_t size);

/// All registered targets by name (registered by static Register objects in each fuzz_*.cpp).
inline std::map<std::string, TargetFn>& targets() {
  static std::map<std::string, TargetFn> t;
  return t;
}

struct Register {
  Register(const char* name, TargetFn fn) { targets()[name] = fn; }
};

/// Aborts with a message: the fuzzer (and the replay test) report this as a failure.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "orchard_fuzz: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// A per-process scratch file holding the current input, for readers that take a path.
/// $ORCHARD_FUZZ_TMP or $TMPDIR or /tmp.
inline std::string scratch_path(std::string_view suffix) {
  const char* dir = std::getenv("ORCHARD_FUZZ_TMP");
  if (dir == nullptr || *dir == '\0') dir = std::getenv("TMPDIR");
  if (dir == nullptr || *dir == '\0') dir = "/tmp";
  static const std::string stem =
      std::string(dir) + "/orchard_fuzz_" + std::to_string(static_cast<long long>(::getpid()));
  return stem + std::string(suffix);
}

inline std::string write_scratch(const std::uint8_t* data, std::size_t size,
                                 std::string_view suffix = ".in") {
  const std::string path = scratch_path(suffix);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) fail("cannot write scratch file " + path);
  if (size > 0 && std::fwrite(data, 1, size, f) != size) fail("short write to " + path);
  std::fclose(f);
  return path;
}

/// Runs fn; an orchard::Error is the clean rejection every malformed input must end in. With
/// ORCHARD_FUZZ_VERBOSE set, the rejection message is printed.
template <class Fn>
bool accepts(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const orchard::Error& e) {
    static const bool verbose = std::getenv("ORCHARD_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "orchard_fuzz: rejected: %s\n", e.what());
    return false;
  }
}

/// Equal, or both NaN.
inline bool same(double a, double b) { return a == b || (a != a && b != b); }

}  // namespace orchard_fuzz

#define ORCHARD_FUZZ_CAT2(a, b) a##b
#define ORCHARD_FUZZ_CAT(a, b) ORCHARD_FUZZ_CAT2(a, b)
/// ORCHARD_FUZZ_TARGET(csv) { ... uses data, size ... }
#define ORCHARD_FUZZ_TARGET(name)                                                         \
  static bool ORCHARD_FUZZ_CAT(fuzz_, name)(const std::uint8_t* data, std::size_t size); \
  static const orchard_fuzz::Register ORCHARD_FUZZ_CAT(fuzz_reg_, name)(                  \
      #name, &ORCHARD_FUZZ_CAT(fuzz_, name));                                             \
  static bool ORCHARD_FUZZ_CAT(fuzz_, name)(const std::uint8_t* data, std::size_t size)
