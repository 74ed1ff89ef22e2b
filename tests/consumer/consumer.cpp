// A user's program: includes the umbrella header (or, with ORCHARD_CONSUMER_CORE, only the core
// header: the umbrella costs half a minute of compile time and one consumer proves it is usable)
// and computes something checkable.
#ifdef ORCHARD_CONSUMER_CORE
#include <orchard/core.hpp>
#else
#include <orchard/orchard.hpp>
#endif

#include <cmath>
#include <iostream>
#include <vector>

int main() {
  orchard::Context ctx(2);
  std::vector<double> sum(1, 0.0);
  orchard::parallel_for(ctx, 1, [&](std::int64_t) { sum[0] = 1.0; });
  orchard::Rng rng(7);
  const double u = rng.uniform();
  const bool ok = sum[0] == 1.0 && u >= 0.0 && u < 1.0;
  std::cout << (ok ? "consumer ok" : "consumer FAILED") << "\n";
  return ok ? 0 : 1;
}
