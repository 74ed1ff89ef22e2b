#pragma once
// Evaluation of orchard::ss3 models: accuracy, macro / micro F1, confusion matrix, stratified
// k-fold cross-validation, and a grid search over (s, l, p, a) that tokenises the data once, only
// recomputes the value table per point, runs points in parallel and caches results.
#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../core/parallel.hpp"
#include "../core/random.hpp"
#include "io.hpp"
#include "model.hpp"

namespace orchard::ss3 {

struct ClassReport {
  double precision = 0, recall = 0, f1 = 0;
  std::int64_t support = 0;
};

/// Single-label metrics. Predictions of -1 ("unknown") count as errors; the confusion matrix has
/// one extra last column for them.
struct Report {
  double accuracy = 0, macro_precision = 0, macro_recall = 0, macro_f1 = 0, micro_f1 = 0;
  std::vector<ClassReport> classes;
  std::vector<std::vector<std::int64_t>> confusion;  ///< [true][predicted], C x (C + 1)
  nlohmann::json to_json() const {
    nlohmann::json j{{"accuracy", accuracy},         {"macro_precision", macro_precision},
                     {"macro_recall", macro_recall}, {"macro_f1", macro_f1},
                     {"micro_f1", micro_f1},         {"confusion", confusion}};
    for (const auto& c : classes)
      j["classes"].push_back({{"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1},
                              {"support", c.support}});
    return j;
  }
};

inline Report evaluate(const std::vector<int>& truth, const std::vector<int>& pred, std::size_t C) {
  require(truth.size() == pred.size(), "pred.size()", pred.size(),
          "must equal truth.size() = " + std::to_string(truth.size()));
  require(!truth.empty(), "truth.size()", truth.size(), "nothing to evaluate");
  require(C > 0, "num_categories", C, "must be > 0");
  Report r;
  r.confusion.assign(C, std::vector<std::int64_t>(C + 1, 0));
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    require(truth[i] >= 0 && static_cast<std::size_t>(truth[i]) < C, "truth", truth[i], "out of range");
    require(pred[i] >= -1 && pred[i] < static_cast<int>(C), "pred", pred[i], "out of range");
    const std::size_t col = pred[i] < 0 ? C : static_cast<std::size_t>(pred[i]);
    ++r.confusion[static_cast<std::size_t>(truth[i])][col];
    correct += pred[i] == truth[i];
  }
  const double n = static_cast<double>(truth.size());
  r.accuracy = static_cast<double>(correct) / n;
  r.micro_f1 = r.accuracy;  // single-label: micro precision = micro recall = accuracy
  r.classes.resize(C);
  for (std::size_t c = 0; c < C; ++c) {
    std::int64_t tp = r.confusion[c][c], fp = 0, fn = 0;
    for (std::size_t k = 0; k < C; ++k)
      if (k != c) fp += r.confusion[k][c];
    for (std::size_t k = 0; k <= C; ++k)
      if (k != c) fn += r.confusion[c][k];
    auto& cr = r.classes[c];
    cr.support = tp + fn;
    cr.precision = tp + fp > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 0.0;
    cr.recall = tp + fn > 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0;
    cr.f1 = cr.precision + cr.recall > 0 ? 2 * cr.precision * cr.recall / (cr.precision + cr.recall) : 0.0;
    r.macro_precision += cr.precision / static_cast<double>(C);
    r.macro_recall += cr.recall / static_cast<double>(C);
    r.macro_f1 += cr.f1 / static_cast<double>(C);
  }
  return r;
}

/// Multi-label metrics: micro / macro F1 over categories, hamming loss and exact match ratio.
struct MultiLabelReport {
  double micro_f1 = 0, macro_f1 = 0, hamming_loss = 0, exact_match = 0;
};
inline MultiLabelReport evaluate_multilabel(const std::vector<std::vector<int>>& truth,
                                            const std::vector<std::vector<int>>& pred, std::size_t C) {
  require(truth.size() == pred.size(), "pred.size()", pred.size(), "must equal truth.size()");
  require(!truth.empty() && C > 0, "truth.size()", truth.size(), "nothing to evaluate");
  std::vector<std::int64_t> tp(C, 0), fp(C, 0), fn(C, 0);
  std::int64_t exact = 0, wrong = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    std::vector<char> t(C, 0), p(C, 0);
    for (int c : truth[i]) {
      require(c >= 0 && static_cast<std::size_t>(c) < C, "truth label", c, "out of range");
      t[static_cast<std::size_t>(c)] = 1;
    }
    for (int c : pred[i]) {
      require(c >= 0 && static_cast<std::size_t>(c) < C, "predicted label", c, "out of range");
      p[static_cast<std::size_t>(c)] = 1;
    }
    bool same = true;
    for (std::size_t c = 0; c < C; ++c) {
      tp[c] += t[c] && p[c];
      fp[c] += !t[c] && p[c];
      fn[c] += t[c] && !p[c];
      if (t[c] != p[c]) same = false, ++wrong;
    }
    exact += same;
  }
  MultiLabelReport r;
  std::int64_t TP = 0, FP = 0, FN = 0;
  for (std::size_t c = 0; c < C; ++c) {
    TP += tp[c], FP += fp[c], FN += fn[c];
    const double d = static_cast<double>(2 * tp[c] + fp[c] + fn[c]);
    r.macro_f1 += (d > 0 ? 2.0 * static_cast<double>(tp[c]) / d : 0.0) / static_cast<double>(C);
  }
  const double d = static_cast<double>(2 * TP + FP + FN);
  r.micro_f1 = d > 0 ? 2.0 * static_cast<double>(TP) / d : 0.0;
  r.hamming_loss = static_cast<double>(wrong) / static_cast<double>(truth.size() * C);
  r.exact_match = static_cast<double>(exact) / static_cast<double>(truth.size());
  return r;
}

/// Category indices of string labels in a model (unknown label -> InvalidArgument).
inline std::vector<int> label_indices(const Model& m, const std::vector<std::string>& labels) {
  std::vector<int> y(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) y[i] = m.category_index(labels[i]);
  return y;
}

/// Predictions of encoded documents with one value table (pyss3's predict semantics).
inline std::vector<int> predict_encoded(const Model& m, const std::vector<EncodedDoc>& docs,
                                        const ValueTable& vt, const Fallback& fb = Fallback::most(),
                                        const SummaryOps& ops = {}) {
  std::vector<int> out(docs.size());
  for (std::size_t i = 0; i < docs.size(); ++i) out[i] = m.decide(m.proba_encoded(docs[i], vt, ops), fb);
  return out;
}

/// Stratified fold of every document (0 .. k-1), seeded.
inline std::vector<int> stratified_folds(const std::vector<std::string>& labels, int k, std::uint64_t seed) {
  require(k >= 2, "k", k, "must be >= 2");
  require(labels.size() >= static_cast<std::size_t>(k), "labels.size()", labels.size(), "must be >= k");
  std::map<std::string, std::vector<std::size_t>> by;
  for (std::size_t i = 0; i < labels.size(); ++i) by[labels[i]].push_back(i);
  std::vector<int> fold(labels.size(), 0);
  Rng rng(seed);
  int next = 0;
  std::uint64_t stream = 0;
  for (auto& [label, idx] : by) {
    Rng r = rng.split(stream++);
    r.shuffle(idx.begin(), idx.end());
    for (auto i : idx) {
      fold[i] = next;
      next = (next + 1) % k;
    }
  }
  return fold;
}

struct CrossValidation {
  std::vector<Report> folds;
  double mean_accuracy = 0, mean_macro_f1 = 0;
};

/// Stratified k-fold cross-validation of a model with the given parameters.
inline CrossValidation kfold_cross_validation(const Params& params, const std::vector<std::string>& docs,
                                              const std::vector<std::string>& labels, int k,
                                              std::uint64_t seed = 0, const Context& ctx = Context(1)) {
  require(docs.size() == labels.size(), "labels.size()", labels.size(), "must equal docs.size()");
  const auto fold = stratified_folds(labels, k, seed);
  CrossValidation cv;
  for (int f = 0; f < k; ++f) {
    std::vector<std::string> xtr, ytr, xte, yte;
    for (std::size_t i = 0; i < docs.size(); ++i) {
      (fold[i] == f ? xte : xtr).push_back(docs[i]);
      (fold[i] == f ? yte : ytr).push_back(labels[i]);
    }
    Model m(params);
    m.fit(xtr, ytr, ctx);
    std::vector<int> truth(yte.size());
    for (std::size_t i = 0; i < yte.size(); ++i) truth[i] = m.find_category(yte[i]);
    std::vector<int> keep_t, keep_p;
    const auto pred = m.predict(xte, ctx);
    for (std::size_t i = 0; i < truth.size(); ++i)
      if (truth[i] >= 0) keep_t.push_back(truth[i]), keep_p.push_back(pred[i]);
    cv.folds.push_back(evaluate(keep_t, keep_p, m.num_categories()));
    cv.mean_accuracy += cv.folds.back().accuracy / k;
    cv.mean_macro_f1 += cv.folds.back().macro_f1 / k;
  }
  return cv;
}

/// The values of each hyperparameter to try.
struct Grid {
  std::vector<double> s{0.45}, l{0.5}, p{1.0}, a{0.0};
  std::vector<Hyper> points() const {
    std::vector<Hyper> v;
    for (double x : s)
      for (double y : l)
        for (double z : p)
          for (double w : a) {
            Hyper h{x, y, z, w};
            h.validate();
            v.push_back(h);
          }
    return v;
  }
};

struct GridResult {
  Hyper hyper;
  double accuracy = 0, macro_f1 = 0;
  bool cached = false;  ///< taken from the cache, not recomputed
};

/// Results of evaluated points, keyed by a data tag and (s, l, p, a); persists to JSON.
class GridCache {
 public:
  bool find(const std::string& tag, const Hyper& h, GridResult& out) const {
    auto it = map_.find({tag, {h.s, h.l, h.p, h.a}});
    if (it == map_.end()) return false;
    out = it->second;
    out.cached = true;
    return true;
  }
  void put(const std::string& tag, const GridResult& r) {
    map_[{tag, {r.hyper.s, r.hyper.l, r.hyper.p, r.hyper.a}}] = r;
  }
  std::size_t size() const { return map_.size(); }
  void save(const std::string& path) const {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& [k, r] : map_)
      j.push_back({{"tag", k.first}, {"s", r.hyper.s}, {"l", r.hyper.l}, {"p", r.hyper.p},
                   {"a", r.hyper.a}, {"accuracy", r.accuracy}, {"macro_f1", r.macro_f1}});
    detail::write_file(path, j.dump());
  }
  void load(const std::string& path) {
    try {
      for (const auto& e : nlohmann::json::parse(detail::read_file(path))) {
        GridResult r;
        r.hyper = Hyper{e.at("s"), e.at("l"), e.at("p"), e.at("a")};
        r.accuracy = e.at("accuracy");
        r.macro_f1 = e.at("macro_f1");
        put(e.at("tag").get<std::string>(), r);
      }
    } catch (const nlohmann::json::exception& e) {
      throw FormatError("orchard::ss3: bad grid cache '" + path + "': " + e.what());
    }
  }

 private:
  std::map<std::pair<std::string, std::array<double, 4>>, GridResult> map_;
};

struct GridSearchResult {
  std::vector<GridResult> points;  ///< in grid order
  GridResult best;                 ///< highest accuracy (first in grid order on ties)
};

/// Grid search on a trained model (its counts are reused) and a test set: test documents are
/// encoded once, every point computes its own value table and classifies; points run in parallel
/// (one thread each) and are looked up in / stored to `cache` under `tag`.
inline GridSearchResult grid_search(const Model& trained, const std::vector<std::string>& test_docs,
                                    const std::vector<std::string>& test_labels, const Grid& grid,
                                    const Context& ctx = Context(1), GridCache* cache = nullptr,
                                    const std::string& tag = "default", const ProgressFn& progress = {}) {
  require(test_docs.size() == test_labels.size(), "test_labels.size()", test_labels.size(),
          "must equal test_docs.size()");
  require(!test_docs.empty(), "test_docs.size()", test_docs.size(), "test set is empty");
  const auto points = grid.points();
  require(!points.empty(), "grid", "empty", "needs at least one value per hyperparameter");
  const auto truth = label_indices(trained, test_labels);
  std::vector<EncodedDoc> enc(test_docs.size());
  parallel_for(ctx, static_cast<std::int64_t>(enc.size()),
               [&](std::int64_t i) { enc[static_cast<std::size_t>(i)] = trained.encode(test_docs[static_cast<std::size_t>(i)]); });
  GridSearchResult res;
  res.points.resize(points.size());
  std::vector<char> pending(points.size(), 1);
  if (cache)
    for (std::size_t i = 0; i < points.size(); ++i)
      if (cache->find(tag, points[i], res.points[i])) pending[i] = 0;
  std::vector<std::size_t> work;
  for (std::size_t i = 0; i < points.size(); ++i)
    if (pending[i]) work.push_back(i);
  const Context one(1);
  std::int64_t done = 0;
  bool stop = false;
  std::vector<char> have(points.size(), 0);
  for (std::size_t i = 0; i < points.size(); ++i) have[i] = !pending[i];
  const std::int64_t chunk = std::max<std::int64_t>(1, ctx.threads());
  for (std::size_t b = 0; b < work.size() && !stop; b += static_cast<std::size_t>(chunk)) {
    const std::size_t e = std::min(work.size(), b + static_cast<std::size_t>(chunk));
    parallel_for_dynamic(ctx, static_cast<std::int64_t>(e - b), [&](std::int64_t k) {
      const std::size_t i = work[b + static_cast<std::size_t>(k)];
      const ValueTable vt = trained.compute_table(points[i], one);
      const auto pred = predict_encoded(trained, enc, vt);
      const Report r = evaluate(truth, pred, trained.num_categories());
      res.points[i] = GridResult{points[i], r.accuracy, r.macro_f1, false};
      have[i] = 1;
    });
    done += static_cast<std::int64_t>(e - b);
    if (progress && !progress({"grid search", done, static_cast<std::int64_t>(work.size())})) stop = true;
  }
  if (cache)
    for (std::size_t i : work)
      if (have[i]) cache->put(tag, res.points[i]);
  bool first = true;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!have[i]) continue;
    if (first || res.points[i].accuracy > res.best.accuracy) res.best = res.points[i];
    first = false;
  }
  if (stop) {  // keep only evaluated points
    std::vector<GridResult> kept;
    for (std::size_t i = 0; i < points.size(); ++i)
      if (have[i]) kept.push_back(res.points[i]);
    res.points.swap(kept);
  }
  return res;
}

}  // namespace orchard::ss3
