#pragma once
// Helpers shared by the test executables: where real data lives, skip accounting for realdata
// cases whose optional data set is missing, and small naive references.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <string>
#include <unistd.h>

namespace orchard_test {

/// ORCHARD_DATA_DIR (set by Meson to <source>/../shared/data unless configured otherwise).
inline std::filesystem::path data_dir() {
  const char* d = std::getenv("ORCHARD_DATA_DIR");
  return d != nullptr ? std::filesystem::path(d) : std::filesystem::path("../shared/data");
}

inline int& skipped_count() {
  static int n = 0;
  return n;
}
inline int& ran_count() {
  static int n = 0;
  return n;
}

/// True when `path` exists; otherwise notes a skip (the realdata run exits 77 when every case
/// skipped) and tells why.
inline bool have_data(const std::filesystem::path& path) {
  if (std::filesystem::exists(path)) {
    ++ran_count();
    return true;
  }
  ++skipped_count();
  std::cout << "skipping: " << path << " is absent\n";
  return false;
}

/// A path inside the shared data folder.
inline std::filesystem::path data(const std::string& rel) { return data_dir() / rel; }

/// The whole file as bytes ("" when it cannot be opened).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// A fresh temporary folder for a test's files, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("orchard_test_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace orchard_test
