// Configure-time probe: links only when clang++-14 has its libFuzzer runtime.
#include <cstddef>
#include <cstdint>
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) { return 0; }
