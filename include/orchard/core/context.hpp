#pragma once
// Where and with how many threads work runs. Passed explicitly to everything that computes.
#include <omp.h>

#include <string>

#include "error.hpp"

namespace orchard {

enum class Device { cpu, cuda };

inline const char* to_string(Device d) { return d == Device::cpu ? "cpu" : "cuda"; }

inline Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu;
  if (name == "cuda" || name == "gpu") return Device::cuda;
  throw InvalidArgument("orchard: argument 'device' = " + name + ": expected 'cpu' or 'cuda'");
}

class Context {
 public:
  /// threads = 0 means every hardware thread OpenMP reports; a negative count is an error.
  explicit Context(int threads = 0, Device device = Device::cpu, int device_id = 0)
      : device_(device), device_id_(device_id) {
    require(threads >= 0, "threads", threads, "must be >= 0 (0 = all hardware threads)");
    require(device_id >= 0, "device_id", device_id, "must be >= 0");
    threads_ = threads == 0 ? omp_get_max_threads() : threads;
  }
  int threads() const noexcept { return threads_; }
  Device device() const noexcept { return device_; }
  int device_id() const noexcept { return device_id_; }

  Context with_threads(int threads) const { return Context(threads, device_, device_id_); }

 private:
  int threads_ = 1;
  Device device_ = Device::cpu;
  int device_id_ = 0;
};

}  // namespace orchard
