#pragma once
// The functional-equivalence cache (FEC): hash -> {fitness (running mean over up to M
// evaluations), aux metrics, evaluation count, hits, evaluation cost}. Policies: unbounded or LRU
// with a capacity; forget an entry after every k full hits (so it is re-measured); forgetful
// eviction with probability F after a full hit; aggregation of up to M evaluations (a hash seen
// with fewer than M evaluations is a partial hit: evaluate again and average). Sharded by hash,
// each shard behind its own mutex, so parallel evaluators can share one cache.
#include <tsl/robin_map.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/json.hpp"
#include "../core/random.hpp"

namespace orchard::fhash {

enum class CachePolicy { unbounded, lru };

inline const char* to_string(CachePolicy p) { return p == CachePolicy::lru ? "lru" : "unbounded"; }

inline CachePolicy parse_cache_policy(const std::string& name) {
  if (name == "lru") return CachePolicy::lru;
  if (name == "unbounded") return CachePolicy::unbounded;
  throw InvalidArgument("orchard: argument 'policy' = " + name + ": expected 'lru' or 'unbounded'");
}

struct CacheParams {
  CachePolicy policy = CachePolicy::lru;
  std::size_t capacity = 100000;    ///< entries kept under LRU (AutoML-Zero's default); >= 1
  int forget_every = 0;             ///< evict an entry at its k-th full hit (0 = never)
  double forget_probability = 0.0;  ///< F: evict after a full hit with this probability
  int max_evals = 1;                ///< M: evaluations averaged per hash before full hits
  int shards = 16;                  ///< independent locks; 1 gives one global LRU order
  std::uint64_t seed = 0;           ///< RNG of the forgetful policy
  double hash_cost = 0.0;           ///< simulated cost of one hash (added per lookup)

  void validate() const {
    require(capacity >= 1, "capacity", capacity,
            "must be >= 1 (use policy 'unbounded' for no limit)");
    require(forget_every >= 0, "forget_every", forget_every, "must be >= 0 (0 = never)");
    require(
        std::isfinite(forget_probability) && forget_probability >= 0.0 && forget_probability <= 1.0,
        "forget_probability", forget_probability, "must lie in [0, 1]");
    require(max_evals >= 1, "max_evals", max_evals, "must be >= 1");
    require(shards >= 1 && shards <= 4096, "shards", shards, "must lie in 1..4096");
    require(std::isfinite(hash_cost) && hash_cost >= 0.0, "hash_cost", hash_cost,
            "must be finite and >= 0");
  }
};

struct CacheEntry {
  double fitness = 0.0;     ///< running mean over `evals` evaluations
  std::vector<double> aux;  ///< running means of auxiliary metrics
  int evals = 0;
  std::int64_t hits = 0;  ///< full hits served
  double cost = 0.0;      ///< mean evaluation cost
};

enum class LookupKind { miss, partial_hit, full_hit };

struct Lookup {
  LookupKind kind = LookupKind::miss;
  CacheEntry entry;  ///< the entry's state before this lookup's evaluation (full hit: the answer)
  bool needs_evaluation() const { return kind != LookupKind::full_hit; }
};

struct CacheStats {
  std::int64_t lookups = 0, misses = 0, partial_hits = 0, full_hits = 0;
  std::int64_t evaluations = 0;  ///< results recorded
  std::int64_t evictions = 0;    ///< capacity evictions (LRU)
  std::int64_t forgotten = 0;    ///< forget-every and forgetful evictions
  std::int64_t size = 0;         ///< entries now
  double hash_cost = 0.0;        ///< simulated hashing cost spent
  double eval_cost = 0.0;        ///< evaluation cost spent
  double saved_cost = 0.0;       ///< evaluation cost avoided by full hits

  double hit_fraction() const {
    return lookups == 0 ? 0.0 : static_cast<double>(full_hits) / static_cast<double>(lookups);
  }
  /// Candidates looked up per distinct hash inserted (misses).
  double models_per_hash() const {
    return misses == 0 ? 0.0 : static_cast<double>(lookups) / static_cast<double>(misses);
  }
  /// Cost without the cache divided by the cost with it (hash costs included).
  double cost_speedup() const {
    const double with = hash_cost + eval_cost;
    return with <= 0.0 ? 1.0 : (eval_cost + saved_cost) / with;
  }
};

class FecCache {
 public:
  explicit FecCache(const CacheParams& p = {}) : params_(p), rng_(p.seed) {
    p.validate();
    const std::size_t ns =
        params_.policy == CachePolicy::lru
            ? std::min<std::size_t>(static_cast<std::size_t>(p.shards), p.capacity)
            : static_cast<std::size_t>(p.shards);
    shards_.reserve(ns);
    for (std::size_t s = 0; s < ns; ++s) {
      auto sh = std::make_unique<Shard>();
      sh->capacity = p.capacity / ns + (s < p.capacity % ns ? 1 : 0);
      shards_.push_back(std::move(sh));
    }
  }

  const CacheParams& params() const noexcept { return params_; }
  std::size_t num_shards() const noexcept { return shards_.size(); }

  /// Counts a lookup and classifies it. A full hit counts the hit, then applies forget-every and
  /// forgetful eviction. A miss creates an empty entry awaiting `record`.
  Lookup lookup(std::uint64_t hash, double hash_cost = -1.0) {
    Shard& sh = shard(hash);
    std::lock_guard<std::mutex> lock(sh.mutex);
    ++sh.stats.lookups;
    sh.stats.hash_cost += hash_cost >= 0.0 ? hash_cost : params_.hash_cost;
    Lookup out;
    auto it = sh.map.find(hash);
    if (it == sh.map.end()) {
      ++sh.stats.misses;
      out.kind = LookupKind::miss;
      insert_new(sh, hash);
      return out;
    }
    touch(sh, it.value());
    CacheEntry& e = it.value()->second;
    out.entry = e;
    if (e.evals < params_.max_evals) {
      ++sh.stats.partial_hits;
      out.kind = LookupKind::partial_hit;
      return out;
    }
    ++sh.stats.full_hits;
    out.kind = LookupKind::full_hit;
    ++e.hits;
    out.entry.hits = e.hits;
    sh.stats.saved_cost += e.cost;
    bool forget = params_.forget_every > 0 && e.hits >= params_.forget_every;
    if (params_.forget_probability > 0.0) {
      std::lock_guard<std::mutex> rl(*rng_mutex_);
      if (rng_.uniform() < params_.forget_probability) forget = true;
    }
    if (forget) {
      ++sh.stats.forgotten;
      sh.order.erase(it.value());
      sh.map.erase(it);
    }
    return out;
  }

  /// Adds one evaluation to the hash's running means (re-creating the entry if it was evicted
  /// in between) and returns the updated entry.
  CacheEntry record(std::uint64_t hash, double fitness, const std::vector<double>& aux = {},
                    double cost = 1.0) {
    Shard& sh = shard(hash);
    std::lock_guard<std::mutex> lock(sh.mutex);
    auto it = sh.map.find(hash);
    if (it == sh.map.end()) {
      insert_new(sh, hash);
      it = sh.map.find(hash);
    } else {
      touch(sh, it.value());
    }
    CacheEntry& e = it.value()->second;
    const double n = e.evals;
    e.fitness = (e.fitness * n + fitness) / (n + 1);
    if (e.aux.size() < aux.size()) e.aux.resize(aux.size(), 0.0);
    for (std::size_t k = 0; k < aux.size(); ++k) e.aux[k] = (e.aux[k] * n + aux[k]) / (n + 1);
    e.cost = (e.cost * n + cost) / (n + 1);
    ++e.evals;
    ++sh.stats.evaluations;
    sh.stats.eval_cost += cost;
    return e;
  }

  /// Lookup, evaluate when needed (outside the lock) and record: the cached or updated fitness.
  /// `eval()` returns the fitness; `cost` is charged per evaluation.
  template <class Eval>
  double evaluate(std::uint64_t hash, Eval&& eval, double cost = 1.0) {
    const Lookup l = lookup(hash);
    if (!l.needs_evaluation()) return l.entry.fitness;
    const double f = eval();
    return record(hash, f, {}, cost).fitness;
  }

  /// Counts a full hit served by an evaluation running for an identical hash (batched search).
  void count_shared_hit(std::uint64_t hash, double saved_cost, double hash_cost = -1.0) {
    Shard& sh = shard(hash);
    std::lock_guard<std::mutex> lock(sh.mutex);
    ++sh.stats.lookups;
    ++sh.stats.full_hits;
    sh.stats.hash_cost += hash_cost >= 0.0 ? hash_cost : params_.hash_cost;
    sh.stats.saved_cost += saved_cost;
  }

  /// The entry for `hash`, without counting or touching anything.
  std::optional<CacheEntry> peek(std::uint64_t hash) const {
    const Shard& sh = shard(hash);
    std::lock_guard<std::mutex> lock(sh.mutex);
    auto it = sh.map.find(hash);
    if (it == sh.map.end()) return std::nullopt;
    return it->second->second;
  }
  bool contains(std::uint64_t hash) const { return peek(hash).has_value(); }

  std::size_t size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s->mutex);
      n += s->map.size();
    }
    return n;
  }

  CacheStats stats() const {
    CacheStats t;
    for (const auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s->mutex);
      const CacheStats& a = s->stats;
      t.lookups += a.lookups;
      t.misses += a.misses;
      t.partial_hits += a.partial_hits;
      t.full_hits += a.full_hits;
      t.evaluations += a.evaluations;
      t.evictions += a.evictions;
      t.forgotten += a.forgotten;
      t.hash_cost += a.hash_cost;
      t.eval_cost += a.eval_cost;
      t.saved_cost += a.saved_cost;
      t.size += static_cast<std::int64_t>(s->map.size());
    }
    return t;
  }

  /// Hashes in least- to most-recently-used order (per shard, shards in order).
  std::vector<std::uint64_t> keys_lru_order() const {
    std::vector<std::uint64_t> out;
    for (const auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s->mutex);
      for (auto it = s->order.rbegin(); it != s->order.rend(); ++it) out.push_back(it->first);
    }
    return out;
  }

  void clear() {
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s->mutex);
      s->map.clear();
      s->order.clear();
      s->stats = CacheStats{};
    }
  }

  // ---- persistence: versioned JSON ---------------------------------------------------------
  static constexpr int kFormatVersion = 1;

  nlohmann::json to_json() const {
    nlohmann::json doc;
    doc["format"] = "orchard";
    doc["kind"] = "fhash_cache";
    doc["version"] = kFormatVersion;
    doc["params"] = {{"policy", to_string(params_.policy)},
                     {"capacity", params_.capacity},
                     {"forget_every", params_.forget_every},
                     {"forget_probability", params_.forget_probability},
                     {"max_evals", params_.max_evals},
                     {"shards", params_.shards},
                     {"seed", params_.seed},
                     {"hash_cost", params_.hash_cost}};
    const CacheStats st = stats();
    doc["counters"] = {{"lookups", st.lookups},           {"misses", st.misses},
                       {"partial_hits", st.partial_hits}, {"full_hits", st.full_hits},
                       {"evaluations", st.evaluations},   {"evictions", st.evictions},
                       {"forgotten", st.forgotten},       {"hash_cost", st.hash_cost},
                       {"eval_cost", st.eval_cost},       {"saved_cost", st.saved_cost}};
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s->mutex);
      for (auto it = s->order.rbegin(); it != s->order.rend(); ++it) {
        const CacheEntry& e = it->second;
        nlohmann::json aux = nlohmann::json::array();
        for (double a : e.aux) aux.push_back(encode(a));
        entries.push_back({{"hash", it->first},
                           {"fitness", encode(e.fitness)},
                           {"evals", e.evals},
                           {"hits", e.hits},
                           {"cost", encode(e.cost)},
                           {"aux", aux}});
      }
    }
    doc["entries"] = std::move(entries);
    return doc;
  }

  static FecCache from_json(const nlohmann::json& doc) {
    try {
      if (!doc.is_object() || doc.value("format", "") != "orchard" ||
          doc.value("kind", "") != "fhash_cache") {
        throw FormatError("orchard: not an fhash cache document (format/kind mismatch)");
      }
      const int version = json::get<int>(doc, "version", "fhash cache");
      if (version < 1 || version > kFormatVersion) {
        throw FormatError("orchard: fhash cache version " + std::to_string(version) +
                          " is not supported (max " + std::to_string(kFormatVersion) + ")");
      }
      const auto& p = doc.at("params");
      CacheParams cp;
      cp.policy = parse_cache_policy(json::get<std::string>(p, "policy", "fhash cache"));
      cp.capacity = json::get<std::size_t>(p, "capacity", "fhash cache");
      cp.forget_every = json::get<int>(p, "forget_every", "fhash cache");
      cp.forget_probability = json::get<double>(p, "forget_probability", "fhash cache");
      cp.max_evals = json::get<int>(p, "max_evals", "fhash cache");
      cp.shards = json::get<int>(p, "shards", "fhash cache");
      cp.seed = json::get<std::uint64_t>(p, "seed", "fhash cache");
      cp.hash_cost = json::get<double>(p, "hash_cost", "fhash cache");
      FecCache c(cp);
      for (const auto& j : doc.at("entries")) {
        const auto h = json::get<std::uint64_t>(j, "hash", "fhash cache");
        Shard& sh = c.shard(h);
        if (sh.map.find(h) != sh.map.end()) {
          throw FormatError("orchard: fhash cache has a duplicate hash " + std::to_string(h));
        }
        c.insert_new(sh, h);
        CacheEntry& e = sh.map.find(h).value()->second;
        e.fitness = decode(j.at("fitness"));
        e.evals = json::get<int>(j, "evals", "fhash cache");
        e.hits = json::get<std::int64_t>(j, "hits", "fhash cache");
        e.cost = decode(j.at("cost"));
        for (const auto& a : j.at("aux")) e.aux.push_back(decode(a));
        if (e.evals < 0 || e.hits < 0)
          throw FormatError("orchard: fhash cache entry has negative counts");
      }
      const auto& k = doc.at("counters");
      for (auto& s : c.shards_) s->stats = CacheStats{};
      CacheStats& st = c.shards_.front()->stats;  // totals live in shard 0 after loading
      st.lookups = json::get<std::int64_t>(k, "lookups", "fhash cache");
      st.misses = json::get<std::int64_t>(k, "misses", "fhash cache");
      st.partial_hits = json::get<std::int64_t>(k, "partial_hits", "fhash cache");
      st.full_hits = json::get<std::int64_t>(k, "full_hits", "fhash cache");
      st.evaluations = json::get<std::int64_t>(k, "evaluations", "fhash cache");
      st.evictions = json::get<std::int64_t>(k, "evictions", "fhash cache");
      st.forgotten = json::get<std::int64_t>(k, "forgotten", "fhash cache");
      st.hash_cost = json::get<double>(k, "hash_cost", "fhash cache");
      st.eval_cost = json::get<double>(k, "eval_cost", "fhash cache");
      st.saved_cost = json::get<double>(k, "saved_cost", "fhash cache");
      return c;
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(std::string("orchard: malformed fhash cache document: ") + e.what());
    } catch (const InvalidArgument& e) {
      throw FormatError(std::string("orchard: fhash cache document has invalid parameters: ") +
                        e.what());
    }
  }

  void save(const std::string& path) const {
    std::ofstream f(path);
    if (!f) throw IoError("orchard: cannot write fhash cache file '" + path + "'");
    f << to_json().dump();
    if (!f) throw IoError("orchard: failed writing fhash cache file '" + path + "'");
  }

  static FecCache load(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw IoError("orchard: cannot read fhash cache file '" + path + "'");
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      // Byte offset -> line and column for the message.
      const std::size_t off = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
      std::int64_t line = 1, col = 1;
      for (std::size_t i = 0; i < off; ++i) {
        if (text[i] == '\n') {
          ++line;
          col = 1;
        } else {
          ++col;
        }
      }
      throw ParseError(path, line, col, e.what());
    } catch (const nlohmann::json::exception& e) {  // out_of_range: a number beyond double
      throw ParseError(path, 0, 0, e.what());
    }
    return from_json(doc);
  }

 private:
  using Node = std::pair<std::uint64_t, CacheEntry>;
  using Order = std::list<Node>;  // front = most recently used
  struct Shard {
    mutable std::mutex mutex;
    tsl::robin_map<std::uint64_t, Order::iterator> map;
    Order order;
    std::size_t capacity = 0;
    CacheStats stats;
  };

  static nlohmann::json encode(double v) {
    if (std::isfinite(v)) return v;
    if (std::isnan(v)) return "nan";
    return v > 0 ? "inf" : "-inf";
  }
  static double decode(const nlohmann::json& j) {
    if (j.is_number()) return j.get<double>();
    const std::string s = j.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw FormatError("orchard: fhash cache has an invalid number '" + s + "'");
  }

  static std::uint64_t mix(std::uint64_t h) {
    std::uint64_t s = h;
    return splitmix64(s);
  }
  Shard& shard(std::uint64_t hash) { return *shards_[mix(hash) % shards_.size()]; }
  const Shard& shard(std::uint64_t hash) const { return *shards_[mix(hash) % shards_.size()]; }

  void touch(Shard& sh, Order::iterator it) { sh.order.splice(sh.order.begin(), sh.order, it); }

  void insert_new(Shard& sh, std::uint64_t hash) {
    sh.order.emplace_front(hash, CacheEntry{});
    sh.map.insert({hash, sh.order.begin()});
    if (params_.policy == CachePolicy::lru) {
      while (sh.map.size() > sh.capacity) {
        sh.map.erase(sh.order.back().first);
        sh.order.pop_back();
        ++sh.stats.evictions;
      }
    }
  }

  CacheParams params_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unique_ptr<std::mutex> rng_mutex_ = std::make_unique<std::mutex>();
  Rng rng_;
};

}  // namespace orchard::fhash
