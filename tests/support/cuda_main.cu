// doctest main of the CUDA tests: exits 77 (Meson's "skipped") when no GPU is visible, so the
// suite compiles and links in CI and runs for real on a machine with a device.
#define DOCTEST_CONFIG_IMPLEMENT
#include <cuda_runtime.h>
#include <doctest/doctest.h>

#include <cstdio>

int main(int argc, char** argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::printf("no CUDA device visible, skipping\n");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
