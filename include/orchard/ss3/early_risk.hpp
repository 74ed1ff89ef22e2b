#pragma once
// Streaming early risk detection with SS3 (the paper's eRisk setting): each subject's posts
// arrive one chunk at a time, a per-subject accumulator adds the chunk's confidence vector, and a
// pluggable policy decides, round by round, which subjects to flag as positive. ERDE_o and
// F-latency measure how right and how early the decisions were.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model.hpp"

namespace orchard::ss3 {

struct SubjectState {
  std::string id;
  std::vector<double> cv;  ///< accumulated confidence vector
  int chunks = 0;          ///< chunks (posts) read so far
  int decision = -1;       ///< -1 undecided, 1 positive, 0 negative
  int decided_at = 0;      ///< chunks read when the decision was taken
};

/// Given the undecided subjects (with at least one chunk), returns 1 for those to flag now.
using DecisionPolicy = std::function<std::vector<char>(const std::vector<const SubjectState*>&)>;

/// Flag when the positive category's confidence exceeds the negative one's.
inline DecisionPolicy policy_positive_over_negative(int positive, int negative, int min_chunks = 1) {
  return [=](const std::vector<const SubjectState*>& s) {
    std::vector<char> f(s.size(), 0);
    for (std::size_t i = 0; i < s.size(); ++i)
      f[i] = s[i]->chunks >= min_chunks &&
             s[i]->cv[static_cast<std::size_t>(positive)] > s[i]->cv[static_cast<std::size_t>(negative)];
    return f;
  };
}
/// Flag when positive − negative confidence exceeds `margin`.
inline DecisionPolicy policy_margin(int positive, int negative, double margin, int min_chunks = 1) {
  require(std::isfinite(margin) && margin >= 0, "margin", margin, "must be finite and >= 0");
  return [=](const std::vector<const SubjectState*>& s) {
    std::vector<char> f(s.size(), 0);
    for (std::size_t i = 0; i < s.size(); ++i)
      f[i] = s[i]->chunks >= min_chunks && s[i]->cv[static_cast<std::size_t>(positive)] -
                                                   s[i]->cv[static_cast<std::size_t>(negative)] >
                                               margin;
    return f;
  };
}
/// Flag subjects whose positive confidence exceeds median + gamma · MAD over all undecided
/// subjects of the round (and the negative one's).
inline DecisionPolicy policy_median_mad(int positive, int negative, double gamma, int min_chunks = 1) {
  require(std::isfinite(gamma), "gamma", gamma, "must be finite");
  return [=](const std::vector<const SubjectState*>& s) {
    std::vector<char> f(s.size(), 0);
    if (s.empty()) return f;
    std::vector<double> x(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) x[i] = s[i]->cv[static_cast<std::size_t>(positive)];
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      const std::size_t n = v.size();
      return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    };
    const double med = median(x);
    std::vector<double> dev(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) dev[i] = std::abs(x[i] - med);
    const double mad = median(dev);
    for (std::size_t i = 0; i < s.size(); ++i)
      f[i] = s[i]->chunks >= min_chunks && x[i] > med + gamma * mad &&
             x[i] > s[i]->cv[static_cast<std::size_t>(negative)];
    return f;
  };
}

class EarlyRiskDetector {
 public:
  EarlyRiskDetector(const Model& model, DecisionPolicy policy, const SummaryOps& ops = {})
      : model_(model), policy_(std::move(policy)), ops_(ops) {
    if (model.num_categories() == 0) throw StateError("orchard::ss3: the model has no categories");
    require(static_cast<bool>(policy_), "policy", "empty", "a decision policy is required");
  }

  /// Adds one chunk (post) of a subject. Decided subjects keep their decision.
  const SubjectState& feed(const std::string& subject, std::string_view chunk) {
    auto& s = state(subject);
    const auto cv = model_.classify(chunk, ops_);
    for (std::size_t c = 0; c < cv.size(); ++c) s.cv[c] += cv[c];
    ++s.chunks;
    return s;
  }
  /// Applies the policy to all undecided subjects; returns how many were flagged positive.
  std::size_t decide_round() {
    std::vector<SubjectState*> und;
    for (auto& [id, s] : subjects_)
      if (s.decision < 0 && s.chunks > 0) und.push_back(&s);
    std::vector<const SubjectState*> view(und.begin(), und.end());
    const auto flags = policy_(view);
    require(flags.size() == und.size(), "policy result size", flags.size(), "must match the subjects");
    std::size_t n = 0;
    for (std::size_t i = 0; i < und.size(); ++i)
      if (flags[i]) {
        und[i]->decision = 1;
        und[i]->decided_at = und[i]->chunks;
        ++n;
      }
    return n;
  }
  /// Ends the stream: undecided subjects are negative, decided after all their chunks.
  void finish() {
    for (auto& [id, s] : subjects_)
      if (s.decision < 0) s.decision = 0, s.decided_at = s.chunks;
  }
  const std::map<std::string, SubjectState>& subjects() const { return subjects_; }

 private:
  SubjectState& state(const std::string& id) {
    auto it = subjects_.find(id);
    if (it == subjects_.end()) {
      SubjectState s;
      s.id = id;
      s.cv.assign(model_.num_categories(), 0.0);
      it = subjects_.emplace(id, std::move(s)).first;
    }
    return it->second;
  }
  const Model& model_;
  DecisionPolicy policy_;
  SummaryOps ops_;
  std::map<std::string, SubjectState> subjects_;
};

/// ERDE_o (Losada & Crestani 2016): mean per-subject cost; false positive costs c_fp (by default
/// the proportion of positive subjects), false negative c_fn, true positive
/// lc_o(k) · c_tp with lc_o(k) = 1 − 1 / (1 + e^(k − o)), true negative 0.
inline double erde(const std::vector<char>& decision, const std::vector<int>& delay,
                   const std::vector<char>& truth, double o, double c_fp = -1, double c_fn = 1,
                   double c_tp = 1) {
  require(decision.size() == truth.size() && delay.size() == truth.size(), "decision.size()",
          decision.size(), "decision, delay and truth must have the same size");
  require(!truth.empty(), "truth.size()", truth.size(), "nothing to evaluate");
  require(o > 0, "o", o, "must be > 0");
  if (c_fp < 0) {
    std::size_t pos = 0;
    for (char t : truth) pos += t != 0;
    c_fp = static_cast<double>(pos) / static_cast<double>(truth.size());
  }
  double total = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    require(delay[i] >= 0, "delay", delay[i], "must be >= 0");
    if (decision[i] && !truth[i]) {
      total += c_fp;
    } else if (!decision[i] && truth[i]) {
      total += c_fn;
    } else if (decision[i] && truth[i]) {
      total += (1.0 - 1.0 / (1.0 + std::exp(static_cast<double>(delay[i]) - o))) * c_tp;
    }
  }
  return total / static_cast<double>(truth.size());
}

/// F-latency (Sadeque et al. 2018): F1 of the positive class times the median speed of the true
/// positives, speed(k) = 1 − (−1 + 2 / (1 + e^(−p (k − 1)))).
inline double f_latency(const std::vector<char>& decision, const std::vector<int>& delay,
                        const std::vector<char>& truth, double p = 0.0078) {
  require(decision.size() == truth.size() && delay.size() == truth.size(), "decision.size()",
          decision.size(), "decision, delay and truth must have the same size");
  require(!truth.empty(), "truth.size()", truth.size(), "nothing to evaluate");
  std::size_t tp = 0, fp = 0, fn = 0;
  std::vector<double> speed;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (decision[i] && truth[i]) {
      ++tp;
      const double pen = -1.0 + 2.0 / (1.0 + std::exp(-p * (static_cast<double>(delay[i]) - 1.0)));
      speed.push_back(1.0 - pen);
    } else if (decision[i]) {
      ++fp;
    } else if (truth[i]) {
      ++fn;
    }
  }
  if (tp == 0) return 0.0;
  const double f1 = 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
  std::sort(speed.begin(), speed.end());
  const std::size_t n = speed.size();
  const double med = n % 2 ? speed[n / 2] : 0.5 * (speed[n / 2 - 1] + speed[n / 2]);
  return f1 * med;
}

}  // namespace orchard::ss3
