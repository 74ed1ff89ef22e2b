#pragma once
// Regularized evolution (Real et al.: population P, tournament S, aging) and random search,
// generic over the candidate type, with the functional-equivalence cache switched on or off
// (`use_fec`), FCM (re-mutate a child until its hash differs from its parent's) and a tabu list
// of over-explored hashes.
//
// Work proceeds in batches of `batch_size` children. Inside a batch, children are made and
// hashed in parallel (each from its own RNG stream), then looked up in the cache in child order;
// a child whose hash matches an earlier child of the same batch shares that evaluation (a full
// hit); the evaluations still needed run in parallel and are recorded in child order. Results are
// therefore bit-identical for any thread count.
#include <tsl/robin_map.h>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../core/context.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "../core/random.hpp"
#include "cache.hpp"

namespace orchard::fhash {

/// What a search domain provides. All members are const and safe to call concurrently.
///  - random_candidate(rng): a fresh candidate (initial population, random search)
///  - mutate(parent, rng): a child
///  - hash(candidate): the functional hash (e.g. via Hasher::hash on the candidate's probe)
///  - evaluate(candidate, rng): the fitness, higher is better (the expensive part)
template <class D>
concept SearchDomain = requires(const D& d, const typename D::Candidate& c, Rng& rng) {
  typename D::Candidate;
  { d.random_candidate(rng) } -> std::convertible_to<typename D::Candidate>;
  { d.mutate(c, rng) } -> std::convertible_to<typename D::Candidate>;
  { d.hash(c) } -> std::convertible_to<std::uint64_t>;
  { d.evaluate(c, rng) } -> std::convertible_to<double>;
};

enum class SearchAlgorithm { regularized_evolution, random_search };

inline const char* to_string(SearchAlgorithm a) {
  return a == SearchAlgorithm::regularized_evolution ? "evolution" : "random";
}

inline SearchAlgorithm parse_search_algorithm(const std::string& name) {
  if (name == "evolution" || name == "regularized_evolution") {
    return SearchAlgorithm::regularized_evolution;
  }
  if (name == "random" || name == "random_search") return SearchAlgorithm::random_search;
  throw InvalidArgument("orchard: argument 'algorithm' = " + name +
                        ": expected 'evolution' or 'random'");
}

struct SearchParams {
  SearchAlgorithm algorithm = SearchAlgorithm::regularized_evolution;
  int population_size = 100;  ///< P
  int tournament_size = 10;   ///< S (sampled with replacement)
  std::int64_t num_candidates =
      10000;                ///< budget: candidates proposed, initial population included
  int batch_size = 1;       ///< children made, hashed and evaluated per step
  bool use_fec = true;      ///< consult the functional-equivalence cache
  CacheParams cache;        ///< cache policy when use_fec
  int fcm_max_tries = 0;    ///< re-mutations while the child's hash equals the parent's (0 = off)
  int tabu_threshold = 0;   ///< hashes proposed this many times are tabu (0 = off)
  int tabu_max_tries = 10;  ///< re-mutations to leave the tabu list
  std::uint64_t seed = 0;

  void validate() const {
    require(population_size >= 1, "population_size", population_size, "must be >= 1");
    require(tournament_size >= 1 && tournament_size <= population_size, "tournament_size",
            tournament_size, "must lie in 1..population_size");
    require(num_candidates >= 1, "num_candidates", num_candidates, "must be >= 1");
    require(batch_size >= 1, "batch_size", batch_size, "must be >= 1");
    require(fcm_max_tries >= 0, "fcm_max_tries", fcm_max_tries, "must be >= 0");
    require(tabu_threshold >= 0, "tabu_threshold", tabu_threshold, "must be >= 0");
    require(tabu_max_tries >= 0, "tabu_max_tries", tabu_max_tries, "must be >= 0");
    cache.validate();
  }
};

struct SearchProgress {
  std::int64_t candidates = 0;  ///< proposed so far
  std::int64_t total = 0;       ///< budget
  std::int64_t evaluations = 0;
  double best_fitness = -std::numeric_limits<double>::infinity();
};

template <class C>
struct SearchResult {
  C best;
  double best_fitness = -std::numeric_limits<double>::infinity();
  std::uint64_t best_hash = 0;
  std::int64_t candidates = 0;   ///< proposed
  std::int64_t evaluations = 0;  ///< evaluate() calls
  std::int64_t fcm_remutations = 0;
  std::int64_t tabu_remutations = 0;
  CacheStats cache;                                             ///< zero when use_fec is off
  double wall_seconds = 0, hash_seconds = 0, eval_seconds = 0;  ///< hash/eval: summed over threads
  std::vector<double> best_curve;                               ///< best fitness after each batch
  std::vector<C> population;  ///< final population (evolution) or last batch (random)
  std::vector<double> population_fitness;
  bool stopped = false;  ///< the progress callback asked to stop
};

namespace detail {
inline double fitness_key(double f) {
  return f == f ? f : -std::numeric_limits<double>::infinity();
}
}  // namespace detail

template <SearchDomain D>
SearchResult<typename D::Candidate> search(
    const D& domain, const SearchParams& params, const Context& ctx = Context(1),
    const std::function<bool(const SearchProgress&)>& progress = {}) {
  using C = typename D::Candidate;
  using clock = std::chrono::steady_clock;
  params.validate();
  const auto t_start = clock::now();

  struct Member {
    C cand;
    std::uint64_t hash;
    double fitness;
  };
  struct Child {
    C cand{};
    std::uint64_t hash = 0;
    double fitness = 0;
    double hash_s = 0, eval_s = 0;
    int fcm = 0, tabu = 0;
    int state = 0;  // 0 evaluate, 1 cached, 2 shares the evaluation of child `source`
    std::size_t source = 0;
  };

  SearchResult<C> res;
  FecCache cache(params.use_fec ? params.cache : CacheParams{});
  const Rng master(params.seed);
  const Rng make_master = master.split(1);
  const Rng eval_master = master.split(2);
  std::deque<Member> population;
  tsl::robin_map<std::uint64_t, int> proposed;  // tabu counts
  const bool need_hash = params.use_fec || params.fcm_max_tries > 0 || params.tabu_threshold > 0;
  const bool evolution = params.algorithm == SearchAlgorithm::regularized_evolution;
  bool have_best = false;

  std::int64_t produced = 0;
  std::vector<Child> children;
  while (produced < params.num_candidates) {
    std::int64_t b = std::min<std::int64_t>(params.batch_size, params.num_candidates - produced);
    const bool init = evolution && static_cast<int>(population.size()) < params.population_size;
    if (init) {
      b = std::min<std::int64_t>(
          b, params.population_size - static_cast<std::int64_t>(population.size()));
    }
    children.assign(static_cast<std::size_t>(b), Child{});

    // 1. make and hash children in parallel.
    parallel_for_dynamic(ctx, b, [&](std::int64_t i) {
      Child& ch = children[static_cast<std::size_t>(i)];
      Rng rng = make_master.split(static_cast<std::uint64_t>(produced + i));
      auto timed_hash = [&](const C& c) {
        const auto t0 = clock::now();
        const std::uint64_t h = domain.hash(c);
        ch.hash_s += std::chrono::duration<double>(clock::now() - t0).count();
        return h;
      };
      if (!evolution || init) {
        ch.cand = domain.random_candidate(rng);
        if (need_hash) ch.hash = timed_hash(ch.cand);
        return;
      }
      // tournament
      std::size_t best = static_cast<std::size_t>(rng.uniform_int(population.size()));
      for (int t = 1; t < params.tournament_size; ++t) {
        const auto j = static_cast<std::size_t>(rng.uniform_int(population.size()));
        if (detail::fitness_key(population[j].fitness) >
            detail::fitness_key(population[best].fitness))
          best = j;
      }
      const Member& parent = population[best];
      ch.cand = domain.mutate(parent.cand, rng);
      if (!need_hash) return;
      ch.hash = timed_hash(ch.cand);
      while (params.fcm_max_tries > 0 && ch.hash == parent.hash && ch.fcm < params.fcm_max_tries) {
        ch.cand = domain.mutate(parent.cand, rng);
        ch.hash = timed_hash(ch.cand);
        ++ch.fcm;
      }
      if (params.tabu_threshold > 0) {
        auto tabu = [&](std::uint64_t h) {
          auto it = proposed.find(h);
          return it != proposed.end() && it->second >= params.tabu_threshold;
        };
        while (tabu(ch.hash) && ch.tabu < params.tabu_max_tries) {
          ch.cand = domain.mutate(parent.cand, rng);
          ch.hash = timed_hash(ch.cand);
          ++ch.tabu;
        }
      }
    });

    // 2. cache lookups in child order.
    std::vector<std::size_t> pending;
    if (params.use_fec) {
      tsl::robin_map<std::uint64_t, std::size_t> inflight;
      for (std::size_t i = 0; i < children.size(); ++i) {
        Child& ch = children[i];
        auto it = inflight.find(ch.hash);
        if (it != inflight.end()) {
          ch.state = 2;
          ch.source = it->second;
          continue;
        }
        const Lookup l = cache.lookup(ch.hash, ch.hash_s);
        if (l.needs_evaluation()) {
          inflight[ch.hash] = i;
          pending.push_back(i);
        } else {
          ch.state = 1;
          ch.fitness = l.entry.fitness;
        }
      }
    } else {
      for (std::size_t i = 0; i < children.size(); ++i) pending.push_back(i);
    }

    // 3. evaluations in parallel.
    parallel_for_dynamic(ctx, static_cast<std::int64_t>(pending.size()), [&](std::int64_t k) {
      const std::size_t i = pending[static_cast<std::size_t>(k)];
      Child& ch = children[i];
      Rng rng = eval_master.split(static_cast<std::uint64_t>(produced) + i);
      const auto t0 = clock::now();
      try {
        ch.fitness = static_cast<double>(domain.evaluate(ch.cand, rng));
      } catch (...) {
        ch.fitness = -std::numeric_limits<double>::infinity();  // a failed candidate
      }
      ch.eval_s = std::chrono::duration<double>(clock::now() - t0).count();
    });
    res.evaluations += static_cast<std::int64_t>(pending.size());

    // 4. record in child order; shared evaluations read the recorded mean.
    if (params.use_fec) {
      for (std::size_t i : pending) {
        Child& ch = children[i];
        ch.fitness = cache.record(ch.hash, ch.fitness, {}, ch.eval_s).fitness;
      }
      for (Child& ch : children) {
        if (ch.state == 2) {
          const Child& src = children[ch.source];
          ch.fitness = src.fitness;
          cache.count_shared_hit(ch.hash, src.eval_s, ch.hash_s);
        }
      }
    }

    // 5. population update (aging), best, tabu counts.
    for (Child& ch : children) {
      res.hash_seconds += ch.hash_s;
      res.eval_seconds += ch.eval_s;
      res.fcm_remutations += ch.fcm;
      res.tabu_remutations += ch.tabu;
      if (params.tabu_threshold > 0) ++proposed[ch.hash];
      if (!have_best || detail::fitness_key(ch.fitness) > detail::fitness_key(res.best_fitness)) {
        have_best = true;
        res.best = ch.cand;
        res.best_fitness = ch.fitness;
        res.best_hash = ch.hash;
      }
      if (evolution) {
        population.push_back(Member{std::move(ch.cand), ch.hash, ch.fitness});
        if (static_cast<int>(population.size()) > params.population_size) population.pop_front();
      }
    }
    produced += b;
    res.best_curve.push_back(res.best_fitness);
    if (progress) {
      SearchProgress p;
      p.candidates = produced;
      p.total = params.num_candidates;
      p.evaluations = res.evaluations;
      p.best_fitness = res.best_fitness;
      if (!progress(p)) {
        res.stopped = true;
        break;
      }
    }
  }
  res.candidates = produced;
  if (params.use_fec) res.cache = cache.stats();
  if (evolution) {
    for (auto& m : population) {
      res.population.push_back(m.cand);
      res.population_fitness.push_back(m.fitness);
    }
  } else {
    for (auto& ch : children) {
      res.population.push_back(ch.cand);
      res.population_fitness.push_back(ch.fitness);
    }
  }
  res.wall_seconds = std::chrono::duration<double>(clock::now() - t_start).count();
  return res;
}

}  // namespace orchard::fhash
