// Reads candidates from stdin (one per line: whitespace-separated floats), prints each
// candidate's reference-parity hash (the official Python significant_float_mix) and reports on
// stderr the time per candidate of the parity path and of the XXH3 path. Used by
// bench/compare/fhash.py. Times are CPU seconds of this process.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <orchard/fhash.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace orchard;
using namespace orchard::fhash;

int main(int argc, char** argv) {
  CLI::App app{"Reference-parity functional hashes of candidates read from stdin"};
  int mantissa = 24, repeats = 20;
  app.add_option("--mantissa", mantissa, "Mantissa bits m")->capture_default_str();
  app.add_option("--repeats", repeats, "Timing repetitions of the XXH3 path")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<std::vector<double>> cands;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream is(line);
      std::vector<double> v;
      double x;
      while (is >> x) v.push_back(x);
      if (!v.empty()) cands.push_back(std::move(v));
    }
    require(!cands.empty(), "stdin", "empty", "needs at least one candidate line");
    HashParams hp;
    hp.canonical.mantissa_bits = mantissa;
    hp.mixer = Mixer::reference_sha256;
    const Hasher parity(hp, ProbeSet{});
    hp.mixer = Mixer::xxh3;
    const Hasher fast(hp, ProbeSet{});
    std::vector<std::uint64_t> out(cands.size());
    // CPU time of this process: the machine is shared, wall time would measure the neighbours.
    auto cpu = [] {
      timespec ts{};
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    };
    double t0 = cpu();
    for (std::size_t i = 0; i < cands.size(); ++i) out[i] = parity.hash_outputs(cands[i]);
    const double t_parity = cpu() - t0;
    std::uint64_t sink = 0;
    t0 = cpu();
    for (int r = 0; r < repeats; ++r)
      for (const auto& c : cands) sink ^= fast.hash_outputs(c);
    const double t_fast = cpu() - t0;
    for (auto h : out) std::printf("%llu\n", static_cast<unsigned long long>(h));
    std::fprintf(stderr, "parity_s_per_candidate %.6e\nxxh3_s_per_candidate %.6e\nsink %llu\n",
                 t_parity / static_cast<double>(cands.size()),
                 t_fast / (static_cast<double>(cands.size()) * repeats),
                 static_cast<unsigned long long>(sink));
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
