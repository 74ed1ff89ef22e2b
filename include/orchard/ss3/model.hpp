#pragma once
// The SS3 classifier (Burdisso, Errecalde, Montes-y-Gomez 2019), computed exactly as pyss3 0.6.5
// does: counts FR per (n-gram, category), local value lv, significance sg ("xai" or "vanilla"),
// sanction sn, global value gv and confidence value cv; greedy n-gram classification over
// paragraphs and sentences; 2-means multi-label selection.
//
// Storage: one term table shared by all categories (a term is a word or an n-gram, found by
// (parent term, last word) in a hash map), with counts and values stored term-major (T x C), so
// the values of a term are recomputed for every category at once. A model read from a file keeps
// its counts in the sparse form the file has (present entries only): the dense T x C table is
// built when it learns again; values, prediction and saving work from either form.
#include <tsl/robin_map.h>
#include <tsl/robin_set.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#include "detail/ngram_table.hpp"
#include "detail/word_index.hpp"
#include "../core/context.hpp"
#include "../core/memory.hpp"
#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "tokenizer.hpp"

namespace orchard::ss3 {

enum class SgMode { xai, vanilla };
enum class CvMode { norm_gv_xai, norm_gv };

inline const char* to_string(SgMode m) { return m == SgMode::xai ? "xai" : "vanilla"; }
inline const char* to_string(CvMode m) { return m == CvMode::norm_gv_xai ? "norm_gv_xai" : "norm_gv"; }
inline SgMode parse_sg_mode(const std::string& s) {
  if (s == "xai") return SgMode::xai;
  if (s == "vanilla") return SgMode::vanilla;
  throw InvalidArgument("orchard::ss3: argument 'sg_mode' = " + s + ": expected 'xai' or 'vanilla'");
}
inline CvMode parse_cv_mode(const std::string& s) {
  if (s == "norm_gv_xai") return CvMode::norm_gv_xai;
  if (s == "norm_gv") return CvMode::norm_gv;
  throw InvalidArgument("orchard::ss3: argument 'cv_mode' = " + s +
                        ": expected 'norm_gv_xai' or 'norm_gv'");
}

/// The four SS3 hyperparameters (pyss3's defaults).
struct Hyper {
  double s = 0.45;  ///< sigma, smoothness of the local value
  double l = 0.5;   ///< lambda, significance
  double p = 1.0;   ///< rho, sanction
  double a = 0.0;   ///< alpha, terms with cv <= a are ignored when classifying
  void validate() const {
    require(std::isfinite(s) && s > 0, "s", s, "must be finite and > 0");
    require(std::isfinite(l) && l > 0, "l", l, "must be finite and > 0");
    require(std::isfinite(p) && p >= 0, "p", p, "must be finite and >= 0");
    require(std::isfinite(a) && a >= 0, "a", a, "must be finite and >= 0");
  }
  bool operator==(const Hyper&) const = default;
};

struct Params {
  Hyper hyper{};
  int ngrams = 1;  ///< longest n-gram learned by fit / learn (1 = words only)
  SgMode sg_mode = SgMode::xai;
  CvMode cv_mode = CvMode::norm_gv_xai;
  TokenizerMode tokenizer = TokenizerMode::unicode;  ///< pyss3: pyss3's preprocessing byte for byte
  std::int64_t prune_floor = 10;         ///< n-grams (length >= 2) seen <= this many times are pruned
  std::int64_t prune_trigger = 1000000;  ///< pyss3 also prunes while learning after this many words
  void validate() const {
    hyper.validate();
    require(ngrams >= 1 && ngrams <= 32, "ngrams", ngrams, "must be in [1, 32]");
    require(prune_floor >= 0, "prune_floor", prune_floor, "must be >= 0");
    require(prune_trigger >= 1, "prune_trigger", prune_trigger, "must be >= 1");
  }
};

struct Progress {
  std::string stage;
  std::int64_t done = 0, total = 0;
};
using ProgressFn = std::function<bool(const Progress&)>;

/// A summary operator folds a list of confidence vectors into one (pyss3's summary_op_*).
using SummaryFn = std::function<std::vector<double>(const std::vector<std::vector<double>>&)>;
inline SummaryFn summary_sum() {
  return [](const std::vector<std::vector<double>>& v) {
    std::vector<double> r(v.empty() ? 0 : v[0].size(), 0.0);
    for (const auto& x : v)
      for (std::size_t i = 0; i < r.size(); ++i) r[i] += x[i];
    return r;
  };
}
inline SummaryFn summary_max() {
  return [](const std::vector<std::vector<double>>& v) {
    std::vector<double> r(v.empty() ? 0 : v[0].size(), 0.0);
    for (const auto& x : v)
      for (std::size_t i = 0; i < r.size(); ++i) r[i] = std::max(r[i], x[i]);
    return r;
  };
}
inline SummaryFn summary_mean() {
  return [](const std::vector<std::vector<double>>& v) {
    std::vector<double> r(v.empty() ? 0 : v[0].size(), 0.0);
    for (const auto& x : v)
      for (std::size_t i = 0; i < r.size(); ++i) r[i] += x[i];
    for (auto& x : r) x /= static_cast<double>(std::max<std::size_t>(1, v.size()));
    return r;
  };
}
inline SummaryFn parse_summary(const std::string& name) {
  if (name == "sum") return summary_sum();
  if (name == "max") return summary_max();
  if (name == "mean") return summary_mean();
  throw InvalidArgument("orchard::ss3: argument 'summary' = " + name + ": expected sum, max or mean");
}
/// Operators for the three levels; an empty one means "sum" (pyss3's default, the fast path).
struct SummaryOps {
  SummaryFn ngrams, sentences, paragraphs;
  bool pristine() const { return !ngrams && !sentences && !paragraphs; }
};

/// What to answer when no term of a document is known: the most trained category (pyss3's
/// "most-probable"), no category, or a given one.
struct Fallback {
  enum Kind { most_probable, unknown, category } kind = most_probable;
  int index = -1;
  static Fallback most() { return {most_probable, -1}; }
  static Fallback none() { return {unknown, -1}; }
  static Fallback to(int c) { return {category, c}; }
};

/// A document already mapped to word ids, for both of pyss3's classification paths. Grid search
/// encodes once and classifies with many value tables.
struct EncodedDoc {
  std::vector<std::int32_t> word;       ///< pieces of the classify path (-1 = unknown/separator)
  std::vector<std::uint8_t> space;      ///< piece starts with white space
  std::vector<std::uint32_t> sent_end;  ///< end piece index of each sentence
  std::vector<std::uint32_t> para_end;  ///< end sentence index of each paragraph
  std::vector<std::int32_t> fast;       ///< known words of the fast predict path
};

/// The value tables are written completely by the recomputation (or a model file's load), so they
/// are not zero-filled first, and large ones fault in by huge pages.
using ValueVector = std::vector<double, UninitAllocator<double>>;
/// Dense counts: grown a row per new term, so large tables go to huge pages (far fewer faults).
using CountVector = std::vector<std::int64_t, UninitAllocator<std::int64_t>>;

/// Values derived from the counts for one set of hyperparameters, stored per term for the
/// categories holding it (count > 0; every value of an absent entry is 0): the entries of term t
/// are [row[t], row[t + 1]), categories cat[k] ascending. A term present in at least half of the
/// categories gets a dense row (every category, absent ones with values 0), so frequent words are
/// summed without indirection. With many categories most entries are absent (a word occurs in a
/// few of them), so the tables stay small and loading a model file need not allocate and fill
/// dense T x C tables.
struct ValueTable {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  Hyper hyper{};
  std::vector<std::size_t> row;               ///< T + 1 offsets (empty: no layout yet)
  std::vector<std::uint32_t> cat;             ///< category of each entry
  ValueVector lv, sg, gv, cv;                 ///< one value per entry
  std::vector<std::vector<double>> max_gv;    ///< per category, per n-gram length
  /// Entry of (t, c), npos when the term is absent from the category.
  std::size_t find(std::size_t t, std::size_t c) const noexcept {
    if (t + 1 >= row.size()) return npos;
    for (std::size_t k = row[t], e = row[t + 1]; k < e; ++k) {
      if (cat[k] == c) return k;
      if (cat[k] > c) break;
    }
    return npos;
  }
  /// A value of (t, c) from one of the tables (0 for an absent entry).
  double at(const ValueVector& v, std::size_t t, std::size_t c) const noexcept {
    const std::size_t k = find(t, c);
    return k == npos ? 0.0 : v[k];
  }
  std::size_t entries() const noexcept { return row.empty() ? 0 : row.back(); }
};

/// 2-means split of confidence values sorted decreasingly (pyss3's kmean_multilabel_size):
/// the number of leading categories in the "positive" cluster.
inline std::size_t kmeans_multilabel_size(const std::vector<double>& sorted_desc) {
  if (sorted_desc.empty()) return 0;
  double neg = -1, pos = -1;
  double new_neg = sorted_desc.back(), new_pos = sorted_desc.front();
  if (new_neg == new_pos) return 0;
  std::size_t npos_count = 0;
  while (pos != new_pos || neg != new_neg) {
    neg = new_neg, pos = new_pos;
    double sn = 0, sp = 0;
    std::size_t nn = 0, np = 0;
    for (double v : sorted_desc) {
      if (std::abs(neg - v) < std::abs(pos - v)) {
        sn += v, ++nn;
      } else {
        sp += v, ++np;
      }
    }
    if (nn > 0) new_neg = sn / static_cast<double>(nn);
    if (np > 0) new_pos = sp / static_cast<double>(np);
    npos_count = np;
  }
  return npos_count;
}

/// Mixes the bits of a (parent term, word) key: the identity hash would cluster them.
struct TermKeyHash {
  std::size_t operator()(std::uint64_t k) const noexcept {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return static_cast<std::size_t>(k);
  }
};

/// Values saved with the counts (binary model files): sg and gv of every (term, category) entry
/// with a positive count, in term-major order, as `count` raw doubles each (host byte order, any
/// alignment: typically the bytes of a file buffer). lv and cv follow from them and the counts.
struct StoredValues {
  const char* sg = nullptr;
  const char* gv = nullptr;
  std::size_t count = 0;
};

class Model {
 public:
  static constexpr const char* others_category = "[others]";

  explicit Model(Params params = {}) : params_(params), tok_(params.tokenizer) {
    params_.validate();
    values_.hyper = params_.hyper;
  }

  // ---- training --------------------------------------------------------------------------
  /// Single-label training as pyss3's fit: documents of each category (sorted by name) are
  /// concatenated and learned, n-grams are pruned, values computed.
  void fit(const std::vector<std::string>& docs, const std::vector<std::string>& labels,
           const Context& ctx = Context(1), const ProgressFn& progress = {}) {
    require(docs.size() == labels.size(), "labels.size()", labels.size(),
            "must equal docs.size() = " + std::to_string(docs.size()));
    require(!docs.empty(), "docs.size()", docs.size(), "training set is empty");
    std::vector<std::string> cats;
    {
      tsl::robin_set<std::string_view, StringHash, std::equal_to<>> seen;
      for (const auto& l : labels)
        if (seen.insert(std::string_view(l)).second) cats.push_back(l);
    }
    std::sort(cats.begin(), cats.end());
    // documents of each category, in input order
    std::vector<std::vector<std::size_t>> members(cats.size());
    {
      tsl::robin_map<std::string_view, std::size_t, StringHash, std::equal_to<>> pos;
      for (std::size_t k = 0; k < cats.size(); ++k) pos.emplace(std::string_view(cats[k]), k);
      for (std::size_t i = 0; i < docs.size(); ++i) members[pos.find(std::string_view(labels[i]))->second].push_back(i);
    }
    Model tmp(*this);  // the model changes only when training succeeds
    for (const auto& cat : cats) {  // same order pyss3 creates them; one table layout change
      require(!cat.empty(), "label", cat, "category names must not be empty");
      tmp.add_category(cat);
    }
    std::int64_t done = 0;
    SparseScratch scratch;
    std::string all;  // a category's documents, one after the other
    for (std::size_t k = 0; k < cats.size(); ++k) {
      const std::string& cat = cats[k];
      std::size_t bytes = 0;
      for (const std::size_t i : members[k]) bytes += docs[i].size() + 1;
      all.clear();
      all.reserve(bytes);
      for (const std::size_t i : members[k]) {
        all += docs[i];
        if (docs[i].empty() || docs[i].back() != '\n') all.push_back('\n');
      }
      const std::int64_t before = tmp.total_words_learned_;
      const std::size_t ci = static_cast<std::size_t>(tmp.find_category(cat));
      if (tmp.max_fr_[ci].empty()) {
        tmp.learn_sparse(all, ci, scratch);  // a new category: count in a local table, keep survivors
      } else {
        tmp.learn_impl(all, cat);
      }
      require(tmp.total_words_learned_ > before, "category", cat, "has no words in its documents");
      if (progress && !progress({"training", ++done, static_cast<std::int64_t>(cats.size())})) break;
    }
    tmp.prune();
    tmp.update_values(ctx);
    *this = std::move(tmp);
  }

  /// Multi-label training as pyss3's fit with lists of labels (a document without labels is
  /// learned as "[others]").
  void fit_multilabel(const std::vector<std::string>& docs,
                      const std::vector<std::vector<std::string>>& labels,
                      const Context& ctx = Context(1)) {
    require(docs.size() == labels.size(), "labels.size()", labels.size(),
            "must equal docs.size() = " + std::to_string(docs.size()));
    require(!docs.empty(), "docs.size()", docs.size(), "training set is empty");
    Model tmp(*this);
    tmp.multilabel_ = true;
    for (const auto& ls : labels) {
      if (ls.empty()) tmp.add_category(others_category);
      for (const auto& l : ls)
        if (!l.empty()) tmp.add_category(l);
    }
    for (std::size_t i = 0; i < docs.size(); ++i) {
      if (labels[i].empty()) {
        tmp.learn_impl(docs[i], others_category);
      } else {
        for (const auto& l : labels[i]) {
          require(!l.empty(), "label", l, "category names must not be empty");
          tmp.learn_impl(docs[i], l);
        }
      }
    }
    tmp.prune();
    tmp.update_values(ctx);
    *this = std::move(tmp);
  }

  /// Incremental learning of one document (pyss3's learn): counts are updated and, when update is
  /// true, only the values of terms whose counts (or whose normalising maximum) changed are
  /// recomputed, then the cheap normalisation pass runs.
  void learn(std::string_view doc, const std::string& cat, bool update = true,
             const Context& ctx = Context(1)) {
    require(!cat.empty(), "cat", cat, "category names must not be empty");
    learn_impl(doc, cat);
    if (update) update_values_incremental(ctx);
  }

  /// Removes n-grams (length >= 2) seen at most prune_floor times in a category.
  void prune() {
    prune_counts_only();
    compact();
  }

  /// Recomputes every value (after training or a hyperparameter change).
  void update_values(const Context& ctx = Context(1)) {
    max_changed_.clear();
    categories_changed_ = false;  // everything is recomputed for the current layout
    compute_values(values_, params_.hyper, ctx, nullptr);
    std::fill(dirty_.begin(), dirty_.end(), 0);
    most_probable_ = num_categories() > 0 ? compute_most_probable(true) : -1;
  }

  void set_hyperparameters(const Hyper& h, const Context& ctx = Context(1)) {
    h.validate();
    params_.hyper = h;
    update_values(ctx);
  }
  const Hyper& hyperparameters() const noexcept { return params_.hyper; }
  const Params& params() const noexcept { return params_; }
  const Tokenizer& tokenizer() const noexcept { return tok_; }

  // ---- queries -----------------------------------------------------------------------------
  std::size_t num_categories() const noexcept { return cat_names_.size(); }
  std::size_t num_words() const noexcept { return words_.size(); }
  std::size_t num_terms() const noexcept { return term_len_.size(); }
  const std::vector<std::string>& categories() const noexcept { return cat_names_; }
  const std::string& category_name(int c) const {
    require(c >= 0 && static_cast<std::size_t>(c) < cat_names_.size(), "category index", c,
            "out of range");
    return cat_names_[static_cast<std::size_t>(c)];
  }
  /// Index of a category, -1 when absent.
  int find_category(std::string_view name) const {
    auto it = cat_index_.find(std::string(name));
    return it == cat_index_.end() ? -1 : it->second;
  }
  int category_index(std::string_view name) const {
    const int c = find_category(name);
    if (c < 0) throw InvalidArgument("orchard::ss3: unknown category '" + std::string(name) + "'");
    return c;
  }
  std::int32_t word_index(std::string_view w) const {
    if (w.empty()) return -1;
    return word_index_.find(w, words_);
  }
  const std::vector<std::string>& words() const noexcept { return words_; }
  bool multilabel() const noexcept { return multilabel_; }
  /// pyss3's get_ngrams_length: length of the longest n-gram of the first category.
  int ngrams_length() const { return max_fr_.empty() ? 0 : static_cast<int>(max_fr_[0].size()); }
  /// The category with the most word occurrences (ties: the last such category, as pyss3).
  /// Cached by the value updates (predictions fall back to it), recomputed when counts changed
  /// since.
  int most_probable_category() const {
    if (most_probable_ >= 0) return most_probable_;
    return compute_most_probable();
  }
  /// layout_fresh: the value layout was built from the current counts (its entries hold them all).
  int compute_most_probable(bool layout_fresh = false) const {
    require(num_categories() > 0, "model", "empty", "has no categories");
    const std::size_t C = num_categories();
    std::vector<std::int64_t> size(C, 0);
    const ValueTable& vt = values_;
    const bool layout = layout_fresh && vt.row.size() == num_terms() + 1;
    for (std::size_t w = 0; w < word_term_.size(); ++w) {
      const std::size_t t = static_cast<std::size_t>(word_term_[w]);
      if (!dense_fr_) {  // the present entries of the sparse counts
        for (std::size_t k = sfr_.row[t]; k < sfr_.row[t + 1]; ++k) size[sfr_.cat[k]] += sfr_.count[k];
      } else if (layout) {
        for (std::size_t k = vt.row[t]; k < vt.row[t + 1]; ++k) size[vt.cat[k]] += fr_[t * C + vt.cat[k]];
      } else {
        for (std::size_t c = 0; c < C; ++c) size[c] += fr_[t * C + c];
      }
    }
    return last_argmax(size);
  }
  /// The index of the largest count, the last one on ties (pyss3's choice of the most probable
  /// category).
  static int last_argmax(const std::vector<std::int64_t>& v) noexcept {
    int best = 0;
    for (std::size_t c = 1; c < v.size(); ++c)
      if (v[c] >= v[static_cast<std::size_t>(best)]) best = static_cast<int>(c);
    return best;
  }

  /// Term id of an n-gram given as words separated by white space (-1 when unknown).
  std::int64_t term_of(std::string_view ngram) const {
    std::int64_t t = -1;
    std::size_t i = 0;
    while (i < ngram.size()) {
      while (i < ngram.size() && std::isspace(static_cast<unsigned char>(ngram[i]))) ++i;
      std::size_t j = i;
      while (j < ngram.size() && !std::isspace(static_cast<unsigned char>(ngram[j]))) ++j;
      if (j == i) break;
      const std::int32_t w = word_index(ngram.substr(i, j - i));
      if (w < 0) return -1;
      t = t < 0 ? word_term_[static_cast<std::size_t>(w)] : child(t, w);
      if (t < 0) return -1;
      i = j;
    }
    return t;
  }
  double fr(std::string_view ngram, std::string_view cat) const { return lookup(ngram, cat, 0); }
  double lv(std::string_view ngram, std::string_view cat) const { return lookup(ngram, cat, 1); }
  double sg(std::string_view ngram, std::string_view cat) const { return lookup(ngram, cat, 2); }
  double gv(std::string_view ngram, std::string_view cat) const { return lookup(ngram, cat, 3); }
  double cv(std::string_view ngram, std::string_view cat) const { return lookup(ngram, cat, 4); }
  double sn(std::string_view ngram, std::string_view cat) const { return lookup(ngram, cat, 5); }

  // ---- raw tables (for model files, evaluation and tests) ----------------------------------
  /// The T x C counts, term-major (a copy; built from the sparse counts of a loaded model).
  std::vector<std::int64_t> counts() const {
    if (dense_fr_) return {fr_.begin(), fr_.end()};
    std::vector<std::int64_t> d(num_terms() * num_categories(), 0);
    for (std::size_t t = 0; t < num_terms(); ++t)
      for (std::size_t k = sfr_.row[t]; k < sfr_.row[t + 1]; ++k) d[t * num_categories() + sfr_.cat[k]] = sfr_.count[k];
    return d;
  }
  /// The categories in which term t has a positive count, ascending, into cat and their counts
  /// into count (room for num_categories() of each); returns how many. layout_current: the value
  /// layout lists every present entry (values_current()), so a dense count row is read at those
  /// entries only; then `at`, when given, receives each entry's index in the value table. Gathered
  /// without a branch per entry (whether an entry of a dense row is present is unpredictable).
  std::size_t present_entries(std::size_t t, std::uint32_t* cat, std::int64_t* count, std::size_t* at = nullptr,
                              bool layout_current = false) const {
    const std::size_t C = num_categories();
    std::size_t n = 0;
    if (!dense_fr_) {
      const std::size_t b = sfr_.row[t], e = sfr_.row[t + 1];
      std::copy(sfr_.cat.begin() + static_cast<std::ptrdiff_t>(b), sfr_.cat.begin() + static_cast<std::ptrdiff_t>(e), cat);
      std::copy(sfr_.count.begin() + static_cast<std::ptrdiff_t>(b), sfr_.count.begin() + static_cast<std::ptrdiff_t>(e),
                count);
      n = e - b;
      if (at) {  // a value row lists exactly these entries, or every category
        const std::size_t vb = values_.row[t];
        const bool all = values_.row[t + 1] - vb == C;
        for (std::size_t i = 0; i < n; ++i) at[i] = vb + (all ? cat[i] : i);
      }
      return n;
    }
    const std::int64_t* r = &fr_[t * C];
    if (!layout_current) {
      if (at) throw std::logic_error("orchard::ss3: value indices need a current value layout");
      for (std::size_t c = 0; c < C; ++c) {
        const std::int64_t f = r[c];
        cat[n] = static_cast<std::uint32_t>(c);
        count[n] = f;
        n += f > 0;
      }
      return n;
    }
    const std::uint32_t* vc = values_.cat.data();
    for (std::size_t k = values_.row[t]; k < values_.row[t + 1]; ++k) {
      const std::int64_t f = r[vc[k]];
      cat[n] = vc[k];
      count[n] = f;
      if (at) at[n] = k;
      n += f > 0;
    }
    return n;
  }
  /// Whether entry k of term t in a value table of this model has a positive count (a dense value
  /// row also lists the categories a term is absent from).
  bool entry_present(const ValueTable& vt, std::size_t t, std::size_t k) const noexcept {
    const std::size_t C = num_categories(), c = vt.cat[k];
    if (dense_fr_) return fr_[t * C + c] > 0;
    if (vt.row[t + 1] - vt.row[t] < C) return true;  // a sparse row: built from these counts' entries
    return count_at(t, c) > 0;
  }
  /// True while the counts are held in the sparse form of a model file (nothing learned since).
  bool counts_sparse() const noexcept { return !dense_fr_; }
  const std::vector<std::int32_t>& term_parent() const noexcept { return term_parent_; }
  const std::vector<std::int32_t>& term_word() const noexcept { return term_word_; }
  const std::vector<std::uint8_t>& term_length() const noexcept { return term_len_; }
  const std::vector<std::vector<std::int64_t>>& max_fr() const noexcept { return max_fr_; }
  const ValueTable& values() const noexcept { return values_; }
  /// True when the value tables match the counts and hyperparameters (nothing learned since the
  /// last update); model files then store the values so loading needs no recomputation.
  bool values_current() const noexcept {
    if (values_.row.size() != num_terms() + 1 || values_.cv.size() != values_.entries() || categories_changed_ ||
        !max_changed_.empty() || !(values_.hyper == params_.hyper) || num_categories() == 0)
      return false;
    for (const auto d : dirty_)
      if (d) return false;
    return true;
  }

  // ---- classification ----------------------------------------------------------------------
  /// Maps a document to word ids for both classification paths.
  EncodedDoc encode(std::string_view doc, bool classify_path = true, bool fast_path = true) const {
    EncodedDoc e;
    if (classify_path) {
      tok_.classify_pieces(
          doc,
          [&](std::string_view w, bool space) {
            e.word.push_back(word_index(w));
            e.space.push_back(space ? 1 : 0);
          },
          [&] { e.sent_end.push_back(static_cast<std::uint32_t>(e.word.size())); },
          [&] { e.para_end.push_back(static_cast<std::uint32_t>(e.sent_end.size())); });
    }
    if (fast_path) {
      tok_.predict_words(doc, [&](std::string_view w) {
        const std::int32_t id = word_index(w);
        if (id >= 0) e.fast.push_back(id);
      });
    }
    return e;
  }

  /// pyss3's classify(doc, sort=False): the document confidence vector.
  std::vector<double> classify(std::string_view doc, const SummaryOps& ops = {}) const {
    check_ready();
    if (ops.pristine()) return longest_term() == 1 ? classify_words(doc) : classify_ngrams(doc);
    return classify_encoded(encode(doc, true, false), values_, ops);
  }
  /// The classify path of a word model with the default operators, streamed from the tokenizer
  /// (the sums of classify_encoded, in the same order, without building the encoded document).
  std::vector<double> classify_words(std::string_view doc) const {
    const double a = values_.hyper.a;
    LevelSums sums(num_categories());
    tok_.classify_pieces(
        doc,
        [&](std::string_view w, bool) {
          const std::int32_t id = word_index(w);
          if (id < 0) return;
          const std::size_t t = static_cast<std::size_t>(word_term_[static_cast<std::size_t>(id)]);
          add_row(values_, t, a, sums.sentence());
        },
        [&] { sums.end_sentence(); }, [&] { sums.end_paragraph(); });
    return sums.document();
  }
  /// Per-category sums of the default summary operators: sentence into paragraph into document.
  struct LevelSums {
    explicit LevelSums(std::size_t C) : C_(C), r_(3 * C, 0.0) {
      level_[0] = r_.data(), level_[1] = level_[0] + C, level_[2] = level_[1] + C;
    }
    LevelSums(const LevelSums&) = delete;
    LevelSums& operator=(const LevelSums&) = delete;
    /// The sentence's sums, to be added to.
    double* sentence() {
      used_[2] = true;
      return level_[2];
    }
    void end_sentence() { move(2); }
    void end_paragraph() { move(1); }
    std::vector<double> document() {
      if (level_[0] != r_.data()) std::copy(level_[0], level_[0] + C_, r_.data());
      r_.resize(C_);
      return std::move(r_);
    }

   private:
    // adds level l into level l - 1 and clears it. An untouched level holds zeros, and adding
    // them changes no sum; an untouched target is zeros, and 0 + x = x (all sums are >= +0), so
    // the two buffers trade places instead.
    void move(int l) {
      if (!used_[l]) return;
      if (!used_[l - 1]) {
        std::swap(level_[l], level_[l - 1]);
      } else {
        double* src = level_[l];
        double* dst = level_[l - 1];
        for (std::size_t c = 0; c < C_; ++c) dst[c] += src[c];
        std::fill(src, src + C_, 0.0);
      }
      used_[l - 1] = true;
      used_[l] = false;
    }
    std::size_t C_;
    std::vector<double> r_;
    double* level_[3];                          // document, paragraph, sentence
    bool used_[3] = {false, false, false};
  };
  /// The classify path of an n-gram model with the default operators: each sentence's pieces are
  /// buffered (per thread, reused across documents) and parsed when it ends, with the sums of
  /// classify_encoded in the same order, without building the encoded document.
  std::vector<double> classify_ngrams(std::string_view doc) const {
    const double a = values_.hyper.a;
    thread_local EncodedDoc sentence;
    const std::size_t L = longest_term();
    std::size_t n = 0;  // pieces of the sentence so far (the buffers only grow)
    LevelSums sums(num_categories());
    tok_.classify_pieces(
        doc,
        [&](std::string_view w, bool space) {
          if (n == sentence.word.size()) {
            sentence.word.resize(2 * n + 64);
            sentence.space.resize(2 * n + 64);
          }
          sentence.word[n] = word_index(w);
          sentence.space[n++] = space ? 1 : 0;
        },
        [&] {
          parse_terms(sentence, 0, n, values_, L, [&](std::int64_t t, std::size_t) {
            if (t >= 0) add_row(values_, static_cast<std::size_t>(t), a, sums.sentence());
          });
          n = 0;
          sums.end_sentence();
        },
        [&] { sums.end_paragraph(); });
    return sums.document();
  }
  /// Adds a term's cv entries above a to out (absent entries add 0, which changes no sum).
  void add_row(const ValueTable& vt, std::size_t t, double a, double* out) const noexcept {
    if (!(a > 0)) return add_row_all(vt, t, out);  // every cv >= 0 passes the filter
    if (t + 1 >= vt.row.size()) return;  // a term learned after the table was computed
    const std::size_t b = vt.row[t], e = vt.row[t + 1];
    const double* cv = vt.cv.data() + b;
    if (e - b == num_categories()) {  // in every category (frequent words): a dense row
      for (std::size_t c = 0; c < e - b; ++c) out[c] += cv[c] > a ? cv[c] : 0.0;
      return;
    }
    const std::uint32_t* cat = vt.cat.data() + b;
    for (std::size_t k = 0; k < e - b; ++k) out[cat[k]] += cv[k] > a ? cv[k] : 0.0;
  }
  /// add_row for alpha = 0 (the default): every cv is >= 0, so the filter only turns zeros into
  /// zeros and the values are added as they are (the same sums, bit for bit: all sums are >= +0).
  void add_row_all(const ValueTable& vt, std::size_t t, double* out) const noexcept {
    if (t + 1 >= vt.row.size()) return;  // a term learned after the table was computed
    const std::size_t b = vt.row[t], n = vt.row[t + 1] - b;
    const double* cv = vt.cv.data() + b;
    if (n == num_categories()) {
      for (std::size_t c = 0; c < n; ++c) out[c] += cv[c];
      return;
    }
    const std::uint32_t* cat = vt.cat.data() + b;
    for (std::size_t k = 0; k < n; ++k) out[cat[k]] += cv[k];
  }
  /// Longest n-gram length over the categories (1 for word models).
  std::size_t longest_term() const {
    std::size_t L = 1;
    for (const auto& mf : max_fr_) L = std::max(L, mf.size());
    return L;
  }
  /// The classify path on an encoded document with a given value table.
  std::vector<double> classify_encoded(const EncodedDoc& e, const ValueTable& vt,
                                       const SummaryOps& ops = {}) const {
    const std::size_t C = num_categories();
    std::vector<std::vector<double>> paras, sents, grams;
    std::vector<double> doc(C, 0.0), para(C, 0.0), sent(C, 0.0);
    std::size_t piece = 0, s = 0;
    std::vector<std::int64_t> parsed;
    const std::size_t L = longest_term();
    for (std::size_t p = 0; p < e.para_end.size(); ++p) {
      std::fill(para.begin(), para.end(), 0.0);
      sents.clear();
      for (; s < e.para_end[p]; ++s) {
        const std::size_t end = e.sent_end[s];
        parsed.clear();
        parse_sentence(e, piece, end, vt, parsed, nullptr, L);
        piece = end;
        std::fill(sent.begin(), sent.end(), 0.0);
        grams.clear();
        for (const std::int64_t t : parsed) {
          if (ops.ngrams) {
            grams.push_back(term_cv(t, vt));
          } else if (t >= 0) {
            add_row(vt, static_cast<std::size_t>(t), vt.hyper.a, sent.data());
          }
        }
        if (ops.ngrams) sent = ops.ngrams(grams);
        if (ops.sentences) {
          sents.push_back(sent);
        } else {
          for (std::size_t c = 0; c < C; ++c) para[c] += sent[c];
        }
      }
      if (ops.sentences) para = sents.empty() ? std::vector<double>(C, 0.0) : ops.sentences(sents);
      if (ops.paragraphs) {
        paras.push_back(para);
      } else {
        for (std::size_t c = 0; c < C; ++c) doc[c] += para[c];
      }
    }
    if (ops.paragraphs) doc = paras.empty() ? std::vector<double>(C, 0.0) : ops.paragraphs(paras);
    return doc;
  }

  /// pyss3's fast predict path (word models, default operators): sum of the words' cv rows.
  std::vector<double> classify_fast_encoded(const EncodedDoc& e, const ValueTable& vt) const {
    const std::size_t C = num_categories();
    std::vector<double> r(C, 0.0);
    for (const std::int32_t w : e.fast) {
      const std::size_t t = static_cast<std::size_t>(word_term_[static_cast<std::size_t>(w)]);
      if (t + 1 >= vt.row.size()) continue;  // a term learned after the table was computed
      const std::size_t b = vt.row[t], n = vt.row[t + 1] - b;
      const std::uint32_t* cat = vt.cat.data() + b;
      const double* cv = vt.cv.data() + b;
      if (vt.hyper.a > 0) {
        for (std::size_t k = 0; k < n; ++k) r[cat[k]] += cv[k] <= vt.hyper.a ? 0.0 : cv[k];
      } else if (n == C) {  // in every category (frequent words): a dense row
        for (std::size_t c = 0; c < C; ++c) r[c] += cv[c];
      } else {
        for (std::size_t k = 0; k < n; ++k) r[cat[k]] += cv[k];
      }
    }
    return r;
  }

  /// pyss3's predict_proba for one document: the fast path for word models with default
  /// operators, the classify path otherwise.
  std::vector<double> predict_proba(std::string_view doc, const SummaryOps& ops = {}) const {
    check_ready();
    const bool fast = uses_fast_path(ops);
    if (!fast && ops.pristine()) return longest_term() == 1 ? classify_words(doc) : classify_ngrams(doc);
    const EncodedDoc e = encode(doc, !fast, fast);
    return proba_encoded(e, values_, ops);
  }
  std::vector<double> proba_encoded(const EncodedDoc& e, const ValueTable& vt,
                                    const SummaryOps& ops = {}) const {
    if (uses_fast_path(ops)) return classify_fast_encoded(e, vt);
    return classify_encoded(e, vt, ops);
  }
  bool uses_fast_path(const SummaryOps& ops) const {
    return tok_.mode() == TokenizerMode::pyss3 && ngrams_length() == 1 && ops.pristine();
  }

  /// Category index from a confidence vector (first maximum), or the fallback when all are zero
  /// (-1 for unknown).
  int decide(const std::vector<double>& cv, const Fallback& fb = Fallback::most()) const {
    std::size_t best = 0;
    bool any = false;
    for (std::size_t c = 0; c < cv.size(); ++c) {
      if (cv[c] > cv[best]) best = c;
      if (cv[c] != 0) any = true;
    }
    if (!any || cv[best] == 0) return fallback_index(fb);
    return static_cast<int>(best);
  }
  int fallback_index(const Fallback& fb) const {
    switch (fb.kind) {
      case Fallback::most_probable:
        return most_probable_category();
      case Fallback::unknown:
        return -1;
      default:
        require(fb.index >= 0 && static_cast<std::size_t>(fb.index) < num_categories(),
                "fallback category", fb.index, "out of range");
        return fb.index;
    }
  }

  /// Predicted category index of one document (-1 = unknown), as pyss3's predict.
  int predict(std::string_view doc, const Fallback& fb = Fallback::most(),
              const SummaryOps& ops = {}) const {
    return decide(predict_proba(doc, ops), fb);
  }
  std::vector<int> predict(const std::vector<std::string>& docs, const Context& ctx = Context(1),
                           const Fallback& fb = Fallback::most(), const SummaryOps& ops = {}) const {
    check_ready();
    std::vector<int> out(docs.size());
    parallel_for(ctx, static_cast<std::int64_t>(docs.size()), [&](std::int64_t i) {
      out[static_cast<std::size_t>(i)] = predict(docs[static_cast<std::size_t>(i)], fb, ops);
    });
    return out;
  }
  std::string predict_label(std::string_view doc, const Fallback& fb = Fallback::most()) const {
    const int c = predict(doc, fb);
    return c < 0 ? std::string("[unknown]") : cat_names_[static_cast<std::size_t>(c)];
  }
  /// pyss3's classify_label: the classify path (always), then the fallback.
  int classify_label(std::string_view doc, const Fallback& fb = Fallback::most(),
                     const SummaryOps& ops = {}) const {
    return decide(classify(doc, ops), fb);
  }

  /// Multi-label classification (pyss3's classify_multilabel): categories of the top 2-means
  /// cluster, "[others]" removed.
  std::vector<int> classify_multilabel(std::string_view doc, const Fallback& fb = Fallback::none(),
                                       const SummaryOps& ops = {}) const {
    return multilabel_from(classify(doc, ops), fb);
  }
  /// pyss3's predict for multi-label models: the same 2-means selection on predict_proba.
  std::vector<int> predict_multilabel(std::string_view doc, const Fallback& fb = Fallback::none()) const {
    return multilabel_from(predict_proba(doc), fb);
  }
  std::vector<int> multilabel_from(const std::vector<double>& cv, const Fallback& fb) const {
    std::vector<std::size_t> order(cv.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return cv[x] > cv[y]; });
    const int others = find_category(others_category);
    std::vector<int> out;
    if (order.empty() || cv[order[0]] == 0) {
      const int c = fallback_index(fb);
      if (c >= 0 && c != others) out.push_back(c);
      return out;
    }
    std::vector<double> sorted;
    for (auto i : order) sorted.push_back(cv[i]);
    const std::size_t k = kmeans_multilabel_size(sorted);
    for (std::size_t i = 0; i < k; ++i)
      if (static_cast<int>(order[i]) != others) out.push_back(static_cast<int>(order[i]));
    return out;
  }

  // ---- values for other hyperparameters (grid search) --------------------------------------
  /// Computes a value table for the same counts and other hyperparameters.
  ValueTable compute_table(const Hyper& h, const Context& ctx = Context(1)) const {
    h.validate();
    ValueTable vt;
    compute_values(vt, h, ctx, nullptr);
    return vt;
  }

  // ---- greedy n-gram parse (shared by classify and explanations) ---------------------------
  /// Parses pieces [b, e) of an encoded document into terms (-1 for pieces that are not known
  /// words); `spans` (optional) receives the number of pieces each parsed element covers.
  void parse_sentence(const EncodedDoc& d, std::size_t b, std::size_t e, const ValueTable& vt,
                      std::vector<std::int64_t>& out, std::vector<std::size_t>* spans = nullptr,
                      std::size_t longest = 0) const {
    const std::size_t L = longest > 0 ? longest : longest_term();  // longest: longest_term(), given
    parse_terms(d, b, e, vt, L, [&](std::int64_t t, std::size_t span) {
      out.push_back(t);
      if (spans) spans->push_back(span);
    });
  }
  /// parse_sentence with the parsed elements given to emit(term, span) in order (L: longest_term()).
  template <class Emit>
  void parse_terms(const EncodedDoc& d, std::size_t b, std::size_t e, const ValueTable& vt, std::size_t L,
                   Emit&& emit) const {
    const std::size_t C = num_categories();
    if (L == 1) {  // words only: every piece is its own term (what the general loop gives too)
      for (std::size_t cur = b; cur < e; ++cur) {
        const std::int32_t w0 = d.word[cur];
        emit(w0 >= 0 ? word_term_[static_cast<std::size_t>(w0)] : -1, 1);
      }
      return;
    }
    // the n-grams continuing the word at the cursor, and the categories still matching them
    // (reused per thread)
    thread_local ParseScratch ps;
    ps.fit(C, L);
    const std::int32_t* word = d.word.data();
    const std::uint8_t* space = d.space.data();
    std::int64_t* chain_term = ps.chain_term.data();
    std::size_t* chain_off = ps.chain_off.data();
    std::size_t cur = b;
    while (cur < e) {
      const std::int32_t w0 = word[cur];
      const std::int64_t t0 = w0 >= 0 ? word_term_[static_cast<std::size_t>(w0)] : -1;
      // the trie path from this word (the same for every category): terms and piece offsets of
      // the n-grams that extend it, separators with a leading space skipped
      std::size_t m = 0;
      if (t0 >= 0) {
        std::int64_t node = t0;
        std::size_t off = 0;
        std::int32_t wi = w0;
        bool sp = space[cur] != 0;
        while (wi >= 0 || sp) {
          ++off;
          if (cur + off >= e) break;
          wi = word[cur + off];
          sp = space[cur + off] != 0;
          if (wi >= 0) {
            if (m + 1 >= L) break;
            const std::int64_t ch = child(node, wi);
            if (ch < 0) break;
            chain_term[m] = ch;
            chain_off[m] = off;
            ++m;
            node = ch;
          }
        }
      }
      // no n-gram continues here: every category matches just the word, which is taken
      const std::size_t ng = m == 0 ? 0 : ngram_level(static_cast<std::size_t>(t0), m, vt, ps);
      if (ng == 0) {
        emit(t0, 1);
        ++cur;
      } else {
        emit(chain_term[ng - 1], chain_off[ng - 1] + 1);
        cur += chain_off[ng - 1] + 1;
      }
    }
  }

  /// Per-thread buffers of parse_sentence: the chain of n-grams from a word, the categories still
  /// matching it, and those whose match ended after the word.
  struct ParseScratch {
    std::vector<std::int64_t> chain_term;
    std::vector<std::size_t> chain_off;
    std::vector<std::uint32_t> live, done, done_len;
    std::vector<std::uint8_t> counted;  ///< per category: whether it counts the word
    void fit(std::size_t C, std::size_t L) {
      if (chain_term.size() < L) chain_term.resize(L), chain_off.resize(L);
      if (live.size() < C) live.resize(C), done.resize(C), done_len.resize(C), counted.resize(C);
    }
  };

  /// pyss3's greedy choice at a word (term u0) that m n-grams continue (ps.chain_term): each
  /// category holding the word matches it and then the n-grams, level by level while it holds
  /// them, and takes the best cv of its match; the category with the best cv overall (the first
  /// on ties) picks its first level with that cv. Returns that level (0 = the word itself,
  /// j = chain term j - 1) when it is an n-gram whose cv exceeds alpha and no category's sum of
  /// the matched words' own cv exceeds it; else 0. Only the categories holding the word are
  /// visited: the others match the word alone with cv 0 (or, in a table older than the counts,
  /// its stale cv, checked against the sums), and every cv is >= 0.
  std::size_t ngram_level(std::size_t u0, std::size_t m, const ValueTable& vt, ParseScratch& ps) const {
    if (dense_fr_) {
      const std::int64_t* fr = fr_.data();
      const std::size_t C = num_categories();
      return ngram_level_with(u0, m, vt, ps, [fr, C](std::size_t t) { return DenseCounted{fr + t * C}; });
    }
    return ngram_level_with(u0, m, vt, ps, [this](std::size_t t) {
      return SparseCounted{sfr_.cat.data(), sfr_.count.data(), sfr_.row[t], sfr_.row[t + 1]};
    });
  }
  /// Whether a term's count in category c is positive, asked for ascending categories: from a
  /// dense count row, or walking the present entries of the sparse counts of a model file.
  struct DenseCounted {
    const std::int64_t* row;
    bool operator()(std::uint32_t c) const { return row[c] > 0; }
    /// out[c] for every category at once.
    void fill(std::uint8_t* out, std::size_t C) const {
      for (std::size_t c = 0; c < C; ++c) out[c] = row[c] > 0 ? 1 : 0;
    }
  };
  struct SparseCounted {
    const std::uint32_t* cat;
    const std::int64_t* count;
    std::size_t p, e;
    bool operator()(std::uint32_t c) {
      while (p < e && cat[p] < c) ++p;
      return p < e && cat[p] == c && count[p] > 0;
    }
    /// out[c] for every category at once (one pass over the entries, not a walk per category).
    void fill(std::uint8_t* out, std::size_t C) const {
      std::fill(out, out + C, std::uint8_t{0});
      for (std::size_t k = p; k < e; ++k) out[cat[k]] = count[k] > 0 ? 1 : 0;
    }
  };
  template <class CountsOf>
  std::size_t ngram_level_with(std::size_t u0, std::size_t m, const ValueTable& vt, ParseScratch& ps,
                               CountsOf&& counts_of) const {
    const std::size_t C = num_categories(), nrow = vt.row.size();
    if (u0 + 1 >= nrow) return 0;  // a word learned after the table: every cv is 0
    const std::uint32_t* cat = vt.cat.data();
    const double* cv = vt.cv.data();
    const std::int64_t* chain = ps.chain_term.data();
    std::uint32_t* live = ps.live.data();
    std::uint32_t* done = ps.done.data();
    std::uint32_t* done_len = ps.done_len.data();
    const auto entries = [&](std::size_t t, std::size_t& q, std::size_t& qe) {
      q = t + 1 < nrow ? vt.row[t] : 0;
      qe = t + 1 < nrow ? vt.row[t + 1] : 0;
    };
    // levels 0 (the word) and 1, categories ascending: candidates come in (category, level)
    // order, so the first maximum is the pick
    double best = 0.0, idle = 0.0;  // idle: the word's largest cv where its count is 0
    std::size_t ic = 0, ng = 0, nlive = 0, ndone = 0, q, qe;
    auto f0 = counts_of(u0);
    auto f1 = counts_of(static_cast<std::size_t>(chain[0]));
    entries(static_cast<std::size_t>(chain[0]), q, qe);
    const auto level01 = [&](std::uint32_t c, double v0, bool counted) {
      if (!counted) {
        if (v0 > idle) idle = v0;
        return;
      }
      if (v0 > best) best = v0, ic = c, ng = 0;
      if (!f1(c)) return;
      while (q < qe && cat[q] < c) ++q;
      const double v = q < qe && cat[q] == c ? cv[q] : 0.0;
      if (v > best) best = v, ic = c, ng = 1;
      live[nlive++] = c;
    };
    const std::size_t k0 = vt.row[u0], n0 = vt.row[u0 + 1] - k0;
    if (n0 == C) {  // a dense row (a frequent word): entry c is category c
      std::uint8_t* counted = ps.counted.data();
      f0.fill(counted, C);
      for (std::size_t c = 0; c < C; ++c) level01(static_cast<std::uint32_t>(c), cv[k0 + c], counted[c] != 0);
    } else {
      for (std::size_t k = k0; k < k0 + n0; ++k) level01(cat[k], cv[k], f0(cat[k]));
    }
    // level j + 1 (chain term j) for the categories that matched level j; after the earlier
    // levels of every category, so a tie goes to a lower category (at its first level)
    std::size_t j = 1;
    for (; j < m && nlive > 0; ++j) {
      auto fc = counts_of(static_cast<std::size_t>(chain[j]));
      entries(static_cast<std::size_t>(chain[j]), q, qe);
      std::size_t keep = 0;
      for (std::size_t x = 0; x < nlive; ++x) {
        const std::uint32_t c = live[x];
        if (!fc(c)) {
          done[ndone] = c, done_len[ndone++] = static_cast<std::uint32_t>(j + 1);
          continue;
        }
        while (q < qe && cat[q] < c) ++q;
        const double v = q < qe && cat[q] == c ? cv[q] : 0.0;
        if (v > best || (v == best && c < ic)) best = v, ic = c, ng = j + 1;
        live[keep++] = c;
      }
      nlive = keep;
    }
    if (ng == 0 || !(best > vt.hyper.a)) return 0;
    // an n-gram wins unless in some category the sum of the unigram cv of the words its match
    // covers is larger: a category that matched the word alone sums its cv (<= best where the
    // word is counted), the others their words' cv in order
    if (idle > best) return 0;
    for (std::size_t x = 0; x < nlive; ++x) done[ndone] = live[x], done_len[ndone++] = static_cast<std::uint32_t>(j + 1);
    for (std::size_t x = 0; x < ndone; ++x) {
      const std::size_t c = done[x];
      double s1 = 0;
      for (std::size_t k = 0; k < done_len[x]; ++k) {
        const std::size_t tk = k == 0 ? u0 : static_cast<std::size_t>(chain[k - 1]);
        const std::size_t u = static_cast<std::size_t>(word_term_[static_cast<std::size_t>(term_word_[tk])]);
        s1 += vt.at(vt.cv, u, c);  // absent: nothing added
      }
      if (s1 > best) return 0;
    }
    return ng;
  }

  /// The cv vector of a term with the alpha filter (zeros for -1).
  std::vector<double> term_cv(std::int64_t t, const ValueTable& vt) const {
    const std::size_t C = num_categories();
    std::vector<double> r(C, 0.0);
    if (t < 0) return r;
    add_row(vt, static_cast<std::size_t>(t), vt.hyper.a, r.data());
    return r;
  }
  /// Words of a term, first to last.
  std::vector<std::int32_t> term_words(std::int64_t t) const {
    std::vector<std::int32_t> w;
    while (t >= 0) {
      w.push_back(term_word_[static_cast<std::size_t>(t)]);
      t = term_parent_[static_cast<std::size_t>(t)];
    }
    std::reverse(w.begin(), w.end());
    return w;
  }
  std::int64_t count(std::int64_t t, std::size_t c) const { return count_at(static_cast<std::size_t>(t), c); }
  std::int64_t child(std::int64_t parent, std::int32_t w) const {
    auto it = children_.find(key(parent, w));
    return it == children_.end() ? -1 : it->second;
  }

  // ---- rebuilding from stored counts (model files) -----------------------------------------
  /// Replaces the whole state; used by the model readers. Terms must list parents before
  /// children; words must be unique; counts are T x C.
  void assign(std::vector<std::string> categories, std::vector<std::string> words,
              std::vector<std::int32_t> parent, std::vector<std::int32_t> word,
              std::vector<std::int64_t> fr, std::vector<std::vector<std::int64_t>> max_fr,
              bool multilabel, const Context& ctx = Context(1), const StoredValues* stored = nullptr) {
    const std::size_t C = categories.size(), T = parent.size();
    if (word.size() != T || fr.size() != T * C || max_fr.size() != C)
      throw FormatError("orchard::ss3: inconsistent table sizes in model");
    SparseCounts sc;
    sc.row.resize(T + 1, 0);
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t c = 0; c < C; ++c) {
        const std::int64_t f = fr[t * C + c];
        if (f < 0) throw FormatError("orchard::ss3: negative count in model");
        if (f > 0) {
          sc.cat.push_back(static_cast<std::uint32_t>(c));
          sc.count.push_back(f);
        }
      }
      sc.row[t + 1] = sc.cat.size();
    }
    assign_sparse(std::move(categories), std::move(words), std::move(parent), std::move(word),
                  std::move(sc), std::move(max_fr), multilabel, ctx, stored);
  }

  /// The counts of the present (term, category) entries: those of term t are
  /// [row[t], row[t + 1]), categories ascending, counts >= 1.
  struct SparseCounts {
    std::vector<std::size_t, UninitAllocator<std::size_t>> row;
    std::vector<std::uint32_t, UninitAllocator<std::uint32_t>> cat;
    std::vector<std::int64_t, UninitAllocator<std::int64_t>> count;
  };
  /// assign from the present entries only (binary files store the counts this way): the value
  /// layout follows from them without scanning a T x C table. counts_checked: the caller has
  /// already checked the count rows (offsets ascending from 0, categories ascending and below the
  /// number of categories, counts >= 1), as the binary reader does while it decodes them.
  void assign_sparse(std::vector<std::string> categories, std::vector<std::string> words,
                     std::vector<std::int32_t> parent, std::vector<std::int32_t> word,
                     SparseCounts sc, std::vector<std::vector<std::int64_t>> max_fr,
                     bool multilabel, const Context& ctx = Context(1),
                     const StoredValues* stored = nullptr, bool counts_checked = false) {
    const std::size_t C = categories.size(), T = parent.size();
    if (word.size() != T || sc.row.size() != T + 1 || sc.row[0] != 0 || sc.row[T] != sc.cat.size() ||
        sc.count.size() != sc.cat.size() || max_fr.size() != C)
      throw FormatError("orchard::ss3: inconsistent table sizes in model");
    if (C > 0 && T > (std::size_t{1} << 31) / C)
      throw FormatError("orchard::ss3: model declares " + std::to_string(T) + " terms x " +
                        std::to_string(C) + " categories, more than 2^31 counts");
    Model m(params_);
    for (std::size_t c = 0; c < C; ++c) {
      if (categories[c].empty() || !m.cat_index_.emplace(categories[c], static_cast<int>(c)).second)
        throw FormatError("orchard::ss3: empty or duplicate category name in model");
    }
    m.cat_names_ = std::move(categories);
    if (const std::int64_t dup = m.word_index_.assign(words); dup >= 0)
      throw FormatError("orchard::ss3: duplicate word '" + words[static_cast<std::size_t>(dup)] + "' in model");
    m.words_ = std::move(words);
    m.children_.reserve(T - std::min(T, m.words_.size()));
    m.word_term_.assign(m.words_.size(), -1);
    m.term_len_.resize(T);
    // the value layout: present entries, dense rows for terms in at least half of the categories
    ValueTable& vt = m.values_;
    resize_populated(vt.row, T + 1);
    vt.row[0] = 0;
    std::size_t min_lengths = std::numeric_limits<std::size_t>::max();  // the shortest max_fr list
    for (const auto& mf : max_fr) min_lengths = std::min(min_lengths, mf.size());
    for (std::size_t t = 0; t < T; ++t) {
      const std::int32_t p = parent[t], w = word[t];
      if (w < 0 || static_cast<std::size_t>(w) >= m.words_.size() || p >= static_cast<std::int32_t>(t))
        throw FormatError("orchard::ss3: bad term " + std::to_string(t) + " in model");
      if (p < 0) {
        if (m.word_term_[static_cast<std::size_t>(w)] >= 0)
          throw FormatError("orchard::ss3: word listed twice as a term in model");
        m.word_term_[static_cast<std::size_t>(w)] = static_cast<std::int32_t>(t);
        m.term_len_[t] = 1;
      } else {
        if (!m.children_.emplace(key(p, w), static_cast<std::int32_t>(t)).second)
          throw FormatError("orchard::ss3: duplicate n-gram in model");
        const int len = m.term_len_[static_cast<std::size_t>(p)] + 1;
        if (len > 64) throw FormatError("orchard::ss3: n-gram too long in model");
        m.term_len_[t] = static_cast<std::uint8_t>(len);
      }
      const std::size_t kb = sc.row[t], ke = sc.row[t + 1];
      if (!counts_checked) {
        if (ke < kb || ke > sc.cat.size()) throw FormatError("orchard::ss3: bad count offsets in model");
        for (std::size_t k = kb; k < ke; ++k) {
          const std::size_t c = sc.cat[k];
          if (c >= C || (k > kb && c <= sc.cat[k - 1]))
            throw FormatError("orchard::ss3: bad category index in the counts of model");
          if (sc.count[k] < 1) throw FormatError("orchard::ss3: counts of present entries must be >= 1");
        }
      }
      if (static_cast<std::size_t>(m.term_len_[t]) > min_lengths)  // a category's list may be too short
        for (std::size_t k = kb; k < ke; ++k)
          if (static_cast<std::size_t>(m.term_len_[t]) > max_fr[sc.cat[k]].size())
            throw FormatError("orchard::ss3: n-gram longer than its category's max_fr list");
      vt.row[t + 1] = vt.row[t] + (2 * (ke - kb) >= C ? C : ke - kb);
    }
    resize_populated(vt.cat, vt.row[T]);
    for (std::size_t t = 0; t < T; ++t) {
      std::uint32_t* out = vt.cat.data() + vt.row[t];
      if (vt.row[t + 1] - vt.row[t] == C) {
        for (std::size_t c = 0; c < C; ++c) out[c] = static_cast<std::uint32_t>(c);
      } else {
        std::copy(sc.cat.begin() + static_cast<std::ptrdiff_t>(sc.row[t]),
                  sc.cat.begin() + static_cast<std::ptrdiff_t>(sc.row[t + 1]), out);
      }
    }
    for (std::size_t w = 0; w < m.word_term_.size(); ++w)
      if (m.word_term_[w] < 0) throw FormatError("orchard::ss3: word without term in model");
    m.term_parent_ = std::move(parent);
    m.term_word_ = std::move(word);
    for (auto& v : max_fr)
      for (auto x : v)
        if (x < 1) throw FormatError("orchard::ss3: max_fr values must be >= 1");
    m.max_fr_ = std::move(max_fr);
    m.multilabel_ = multilabel;
    m.fr_.clear();
    m.sfr_ = std::move(sc);  // the dense table is built if the model learns again
    m.dense_fr_ = false;
    m.dirty_.assign(T, 0);
    if (stored) {
      m.set_stored_values(*stored, ctx);
    } else {
      m.compute_values(m.values_, m.params_.hyper, ctx, nullptr, true);
      m.most_probable_ = C > 0 ? m.compute_most_probable(true) : -1;
    }
    *this = std::move(m);
  }

 private:
  static std::uint64_t key(std::int64_t parent, std::int32_t w) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(parent)) << 32) |
           static_cast<std::uint32_t>(w);
  }

  /// Count of (t, c) from either form of the counts.
  std::int64_t count_at(std::size_t t, std::size_t c) const noexcept {
    if (dense_fr_) return fr_[t * num_categories() + c];
    const std::uint32_t* b = sfr_.cat.data() + sfr_.row[t];
    const std::uint32_t* e = sfr_.cat.data() + sfr_.row[t + 1];
    const std::uint32_t* it = std::lower_bound(b, e, static_cast<std::uint32_t>(c));
    return it != e && *it == c ? sfr_.count[static_cast<std::size_t>(it - sfr_.cat.data())] : 0;
  }
  /// The counts of term t at the entries of its row in a value table (0 where absent).
  void row_counts(const ValueTable& vt, std::size_t t, std::int64_t* out) const noexcept {
    const std::size_t b = vt.row[t], np = vt.row[t + 1] - b;
    const std::uint32_t* pres = vt.cat.data() + b;
    if (dense_fr_) {
      const std::int64_t* f = &fr_[t * num_categories()];
      for (std::size_t q = 0; q < np; ++q) out[q] = f[pres[q]];
      return;
    }
    std::size_t s = sfr_.row[t];
    const std::size_t se = sfr_.row[t + 1];
    for (std::size_t q = 0; q < np; ++q) {  // both lists ascending
      while (s < se && sfr_.cat[s] < pres[q]) ++s;
      out[q] = s < se && sfr_.cat[s] == pres[q] ? sfr_.count[s] : 0;
    }
  }
  /// Builds the dense T x C counts from the sparse ones (before the model learns or prunes).
  void ensure_dense() {
    if (dense_fr_) return;
    const std::size_t C = num_categories(), T = num_terms();
    fr_.assign(T * C, 0);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t k = sfr_.row[t]; k < sfr_.row[t + 1]; ++k) fr_[t * C + sfr_.cat[k]] = sfr_.count[k];
    sfr_ = SparseCounts{};
    dense_fr_ = true;
  }

  void check_ready() const {
    if (cat_names_.empty()) throw StateError("orchard::ss3: the model has no categories (train it first)");
  }

  double lookup(std::string_view ngram, std::string_view cat, int what) const {
    const int c = category_index(cat);
    const std::int64_t t = term_of(ngram);
    if (t < 0) return 0.0;
    const std::size_t C = num_categories();
    const std::size_t u = static_cast<std::size_t>(t), uc = static_cast<std::size_t>(c);
    switch (what) {
      case 0:
        return static_cast<double>(count_at(u, uc));
      case 1:
        return values_.at(values_.lv, u, uc);
      case 2:
        return values_.at(values_.sg, u, uc);
      case 3:
        return values_.at(values_.gv, u, uc);
      case 4:
        return values_.at(values_.cv, u, uc);
      default: {
        if (count_at(u, uc) <= 0) return 0.0;
        // the other categories' sg, in category order (absent ones add min(0, 1) = 0)
        std::vector<double> sg(C, 0.0);
        for (std::size_t k = values_.row[u]; k < values_.row[u + 1]; ++k) sg[values_.cat[k]] = values_.sg[k];
        return sanction(sg.data(), uc, params_.hyper.p);
      }
    }
  }

  int add_category(const std::string& name) {
    auto it = cat_index_.find(name);
    if (it != cat_index_.end()) return it->second;
    ensure_dense();
    const std::size_t C = num_categories(), T = num_terms();
    const int idx = static_cast<int>(C);
    cat_index_.emplace(name, idx);
    cat_names_.push_back(name);
    CountVector nfr(T * (C + 1), 0);
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t c = 0; c < C; ++c) nfr[t * (C + 1) + c] = fr_[t * C + c];
    fr_.swap(nfr);
    max_fr_.emplace_back();
    values_.row.clear();  // layout changed: the next update recomputes everything
    categories_changed_ = true;
    most_probable_ = -1;
    return idx;
  }

  std::int32_t add_word(std::string_view w) {
    const std::int32_t found = word_index_.find(w, words_);
    if (found >= 0) return found;
    const std::int32_t id = static_cast<std::int32_t>(words_.size());
    words_.emplace_back(w);
    word_index_.insert(static_cast<std::uint32_t>(id), words_);
    word_term_.push_back(new_term(-1, id, 1));
    return id;
  }

  std::int32_t new_term(std::int32_t parent, std::int32_t w, int len) {
    const std::int32_t t = static_cast<std::int32_t>(term_len_.size());
    term_parent_.push_back(parent);
    term_word_.push_back(w);
    term_len_.push_back(static_cast<std::uint8_t>(len));
    ensure_dense();
    fr_.resize(fr_.size() + num_categories(), 0);
    dirty_.push_back(1);
    if (parent >= 0) children_.emplace(key(parent, w), t);
    return t;
  }

  void mark_dirty(std::size_t t) {
    if (dirty_.size() < term_len_.size()) dirty_.resize(term_len_.size(), 1);
    dirty_[t] = 1;
    most_probable_ = -1;
  }

  /// The parent terms of the n-grams still growing in the training stream (one per start
  /// position, -1 = a new start), at most n, oldest first.
  struct NgramTips {
    explicit NgramTips(std::size_t n) : n_(n), t_(n) {}
    /// Starts an n-gram at the next word (dropping the oldest when n are growing); the count.
    std::size_t push() {
      if (len_ == n_) {
        for (std::size_t i = 1; i < n_; ++i) t_[i - 1] = t_[i];
        --len_;
      }
      t_[len_++] = -1;
      return len_;
    }
    void clear() { len_ = 0; }
    std::size_t size() const { return len_; }
    std::int32_t& operator[](std::size_t i) { return t_[i]; }

   private:
    std::size_t n_, len_ = 0;
    std::vector<std::int32_t> t_;
  };

  /// Word ids of the short words (1 to 8 bytes) met while training, in a flat open-addressing
  /// table keyed by the bytes themselves, in front of the vocabulary's index (longer words go to
  /// the index directly).
  class ShortWords {
   public:
    ShortWords() : slot_(1024) {}
    /// The id of w, from add() (the vocabulary's id, adding the word) the first time.
    template <class Add>
    std::int32_t find_or_add(std::string_view w, Add&& add) {
      const std::size_t n = w.size();
      if (n == 0 || n > 8) return add();
      const std::uint64_t k = pack(w);
      std::size_t i = slot(k, n);
      while (slot_[i].len != 0) {
        if (slot_[i].key == k && slot_[i].len == n) return slot_[i].id;
        i = (i + 1) & (slot_.size() - 1);
      }
      const std::int32_t id = add();
      slot_[i] = Slot{k, id, static_cast<std::uint32_t>(n)};
      if (2 * ++size_ > slot_.size()) grow();
      return id;
    }

   private:
    struct Slot {
      std::uint64_t key = 0;
      std::int32_t id = -1;
      std::uint32_t len = 0;  // 0: an empty slot
    };
    /// The bytes of a word of 1 to 8 bytes (first and last four, overlapping when shorter; with
    /// the length this is the word).
    static std::uint64_t pack(std::string_view w) {
      const char* p = w.data();
      const std::size_t n = w.size();
      if (n >= 4) {
        std::uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + n - 4, 4);
        return lo | (static_cast<std::uint64_t>(hi) << 32);
      }
      const auto b = [&](std::size_t i) { return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])); };
      return b(0) | (b(n / 2) << 8) | (b(n - 1) << 16);
    }
    std::size_t slot(std::uint64_t k, std::size_t n) const {
      const std::uint64_t h = (k ^ (static_cast<std::uint64_t>(n) << 59)) * 0x9e3779b97f4a7c15ull;
      return static_cast<std::size_t>(h >> 32) & (slot_.size() - 1);
    }
    void grow() {
      std::vector<Slot> old(2 * slot_.size());
      old.swap(slot_);
      for (const Slot& e : old) {
        if (e.len == 0) continue;
        std::size_t i = slot(e.key, e.len);
        while (slot_[i].len != 0) i = (i + 1) & (slot_.size() - 1);
        slot_[i] = e;
      }
    }
    std::vector<Slot> slot_;
    std::size_t size_ = 0;
  };

  /// What fit's learn_sparse calls reuse across the categories (so their memory is allocated and
  /// faulted in once).
  struct SparseScratch {
    ShortWords words;                  ///< word ids of the short words seen
    detail::NgramTable grams;          ///< the n-grams of the current category
    std::vector<std::int32_t> ids;     ///< the current document's word ids, -1 at each break
    std::vector<std::int64_t> counts;  ///< per word id, for words-only models (zeros between calls)
    std::vector<std::int32_t> seen;    ///< words counted by the current call
  };

  void learn_impl(std::string_view doc, const std::string& cat) {
    if (doc.empty()) return;
    ensure_dense();
    if (!unicode::valid_utf8(doc)) unicode::decode_utf8(doc, "doc");  // throws, model untouched
    const std::size_t c = static_cast<std::size_t>(add_category(cat));
    const std::size_t n = static_cast<std::size_t>(params_.ngrams);
    NgramTips tips(n);  // parent term per active n-gram start (-1 = root)
    auto& maxfr = max_fr_[c];
    tok_.learn_stream(
        doc,
        [&](std::string_view word) {
          ++prune_counter_;
          ++total_words_learned_;
          const std::int32_t w = add_word(word);
          const std::size_t len = tips.push();
          while (maxfr.size() < len) {
            maxfr.push_back(1);
          }
          const std::size_t C = num_categories();
          for (std::size_t i = 0; i < len; ++i) {
            std::int32_t t;
            if (tips[i] < 0) {
              t = word_term_[static_cast<std::size_t>(w)];
            } else {
              const std::int64_t ch = child(tips[i], w);
              t = ch >= 0 ? static_cast<std::int32_t>(ch)
                          : new_term(tips[i], w, term_len_[static_cast<std::size_t>(tips[i])] + 1);
            }
            auto& f = fr_[static_cast<std::size_t>(t) * C + c];
            const std::size_t li = len - 1 - i;
            if (f > 0) {
              ++f;
              if (f > maxfr[li]) {
                maxfr[li] = f;
                max_changed_.emplace_back(c, li);
              }
            } else {
              f = 1;
            }
            mark_dirty(static_cast<std::size_t>(t));
            tips[i] = t;
          }
        },
        [&] {
          tips.clear();
          if (prune_counter_ >= params_.prune_trigger) prune_counts_only();
        });
  }

  /// Learns a whole document into a category that has no counts yet (fit's case): n-gram counts
  /// live in a local table while learning and only those that survive pruning enter the shared
  /// term x category table. Same counts, maxima and pruning as learn_impl followed by prune().
  void learn_sparse(std::string_view doc, std::size_t c, SparseScratch& scratch) {
    if (doc.empty()) return;
    ensure_dense();  // invalid UTF-8 throws in learn_stream, before its first word (fit's model is a copy)
    const std::size_t n = static_cast<std::size_t>(params_.ngrams);
    NgramTips tips(n);
    auto& maxfr = max_fr_[c];
    const std::size_t C = num_categories();
    if (n == 1) {  // words only: counts by word id, straight into the shared table at the end
      std::vector<std::int64_t>& wcount = scratch.counts;  // zeros between calls
      std::vector<std::int32_t>& seen = scratch.seen;      // the words counted, in order
      seen.clear();
      if (wcount.size() < words_.size()) wcount.resize(words_.size(), 0);
      tok_.learn_stream(
          doc,
          [&](std::string_view word) {
            ++prune_counter_;
            ++total_words_learned_;
            const auto w = static_cast<std::size_t>(scratch.words.find_or_add(word, [&] { return add_word(word); }));
            if (wcount.size() <= w) wcount.resize(std::max(w + 1, 2 * wcount.size()), 0);
            if (maxfr.empty()) maxfr.push_back(1);
            std::int64_t& f = wcount[w];
            if (f > 0) {
              if (++f > maxfr[0]) maxfr[0] = f;
            } else {
              f = 1;
              seen.push_back(static_cast<std::int32_t>(w));
            }
          },
          [&] {
            if (prune_counter_ >= params_.prune_trigger) prune_counts_only();
          });
      for (const std::int32_t w : seen) {
        const auto t = static_cast<std::size_t>(word_term_[static_cast<std::size_t>(w)]);
        std::int64_t& f = wcount[static_cast<std::size_t>(w)];
        fr_[t * C + c] = f;
        f = 0;
        mark_dirty(t);
      }
      return;
    }
    // The word ids first (-1 at each break), then the n-grams: their slots hash the word ids, so
    // the slots of a word's n-grams are prefetched `ahead` words before they are looked up.
    std::vector<std::int32_t>& ids = scratch.ids;
    ids.clear();
    tok_.learn_stream(
        doc, [&](std::string_view word) { ids.push_back(scratch.words.find_or_add(word, [&] { return add_word(word); })); },
        [&] { ids.push_back(-1); });
    std::vector<std::int32_t> word_local(words_.size(), -1);  // word id -> local term
    struct LocalTerm {
      std::int64_t count;
      std::int32_t parent, word;  // parent -1: a word
    };
    std::vector<LocalTerm> local;  // in creation order, so parents come before their children
    // on fortunes, about 0.6-0.7 distinct n-grams per word and length and fewer than 0.3 new words per word
    const std::size_t expect = ids.size() * (n - 1) * 3 / 4;
    local.reserve(expect + ids.size() / 2);
    const auto make = [&](std::int32_t parent, std::int32_t w) {
      local.push_back(LocalTerm{0, parent, w});
      return static_cast<std::int32_t>(local.size() - 1);
    };
    detail::NgramTable& grams = scratch.grams;
    grams.reset(expect);
    constexpr std::size_t ahead = 8, ring = 16;
    std::vector<std::uint64_t> hash(ring * n);  // [word position % ring][n-gram length - 1]
    std::size_t ahead_len = 0;                  // n-grams ending at the look-ahead position
    const auto look = [&](std::size_t j) {
      const std::int32_t w = ids[j];
      if (w < 0) {
        ahead_len = 0;
        return;
      }
      std::uint64_t* h = &hash[(j % ring) * n];
      const std::uint64_t* prev = &hash[((j + ring - 1) % ring) * n];
      ahead_len = std::min(ahead_len + 1, n);
      h[0] = detail::ngram_hash_word(w);
      for (std::size_t li = 1; li < ahead_len; ++li) {
        h[li] = detail::ngram_hash_extend(prev[li - 1], w);
        grams.prefetch(h[li]);
      }
    };
    for (std::size_t j = 0; j < std::min(ahead, ids.size()); ++j) look(j);
    for (std::size_t k = 0; k < ids.size(); ++k) {
      if (k + ahead < ids.size()) look(k + ahead);
      const std::int32_t w = ids[k];
      if (w < 0) {
        tips.clear();
        if (prune_counter_ >= params_.prune_trigger) {
          prune_counts_only();
          for (LocalTerm& e : local)
            if (e.parent >= 0 && e.count <= params_.prune_floor) e.count = 0;
        }
        continue;
      }
      ++prune_counter_;
      ++total_words_learned_;
      const std::size_t len = tips.push();
      while (maxfr.size() < len) maxfr.push_back(1);
      const std::uint64_t* h = &hash[(k % ring) * n];
      for (std::size_t i = 0; i < len; ++i) {
        const std::size_t li = len - 1 - i;
        std::int32_t t;
        if (li == 0) {
          auto& wl = word_local[static_cast<std::size_t>(w)];
          if (wl < 0) wl = make(-1, w);
          t = wl;
        } else {
          const std::int32_t p = tips[i];
          t = grams.find_or_add(h[li], p, w, [&] { return make(p, w); });
        }
        std::int64_t& f = local[static_cast<std::size_t>(t)].count;
        if (f > 0) {
          ++f;
          if (f > maxfr[li]) maxfr[li] = f;
        } else {
          f = 1;
        }
        tips[i] = t;
      }
    }
    // survivors into the shared table (parents were created before their children)
    std::vector<std::int32_t> g(local.size(), -1);
    for (std::size_t t = 0; t < local.size(); ++t) {
      const LocalTerm& e = local[t];
      if (e.parent < 0) {
        g[t] = word_term_[static_cast<std::size_t>(e.word)];
      } else if (e.count > params_.prune_floor) {
        const std::int32_t pg = g[static_cast<std::size_t>(e.parent)];
        const std::int64_t ch = child(pg, e.word);
        g[t] = ch >= 0 ? static_cast<std::int32_t>(ch)
                       : new_term(pg, e.word, term_len_[static_cast<std::size_t>(pg)] + 1);
      } else {
        continue;
      }
      fr_[static_cast<std::size_t>(g[t]) * C + c] = e.count;
      mark_dirty(static_cast<std::size_t>(g[t]));
    }
  }

  void prune_counts_only() {
    ensure_dense();
    const std::size_t C = num_categories();
    for (std::size_t t = 0; t < term_len_.size(); ++t) {
      if (term_len_[t] < 2) continue;
      for (std::size_t c = 0; c < C; ++c) {
        auto& f = fr_[t * C + c];
        if (f > 0 && f <= params_.prune_floor) {
          f = 0;
          mark_dirty(t);
        }
      }
    }
    prune_counter_ = 0;
  }

  /// Drops terms absent from every category (after pruning) and renumbers the rest.
  void compact() {
    ensure_dense();
    const std::size_t C = num_categories(), T = num_terms();
    std::vector<std::int32_t> remap(T, -1);
    std::size_t nt = 0;
    for (std::size_t t = 0; t < T; ++t) {
      bool alive = term_len_[t] == 1;
      for (std::size_t c = 0; c < C && !alive; ++c) alive = fr_[t * C + c] > 0;
      if (alive) remap[t] = static_cast<std::int32_t>(nt++);
    }
    if (nt == T) return;
    std::vector<std::int32_t> np(nt), nw(nt);
    std::vector<std::uint8_t> nl(nt), nd(nt, 1);
    CountVector nf(nt * C, 0);
    children_.clear();
    for (std::size_t t = 0; t < T; ++t) {
      const std::int32_t r = remap[t];
      if (r < 0) continue;
      const std::size_t u = static_cast<std::size_t>(r);
      np[u] = term_parent_[t] < 0 ? -1 : remap[static_cast<std::size_t>(term_parent_[t])];
      nw[u] = term_word_[t];
      nl[u] = term_len_[t];
      for (std::size_t c = 0; c < C; ++c) nf[u * C + c] = fr_[t * C + c];
      if (np[u] >= 0) children_.emplace(key(np[u], nw[u]), r);
    }
    for (auto& wt : word_term_) wt = remap[static_cast<std::size_t>(wt)];
    term_parent_.swap(np);
    term_word_.swap(nw);
    term_len_.swap(nl);
    fr_.swap(nf);
    dirty_.swap(nd);
    values_.row.clear();
  }

  static double sigmoid(double v, double l) {
    if (l == 0) return 0.0;
    const double x = (3. / l) * v - 3;
    // tanh(x) rounds to +-1 for |x| >= 22 (1 - tanh(22) < 1e-18; glibc returns +-1 there
    // without computing), so these give .5 * (+-1) + .5 exactly without the call.
    if (x >= 22) return 1.0;
    if (x <= -22) return 0.0;
    return .5 * std::tanh(x) + .5;
  }
  /// lv, sg, gv of one term for every category (sg/gv only where the term is present).
  static constexpr std::size_t lv_cache_size = 1024;
  using LvCache = std::vector<std::vector<std::vector<double>>>;  // [c][n-1][fr]
  /// lv for small counts, computed once per (category, length): the same expression as above.
  LvCache lv_table(const Hyper& h) const {
    LvCache t(num_categories());
    for (std::size_t c = 0; c < t.size(); ++c) {
      t[c].resize(max_fr_[c].size());
      for (std::size_t li = 0; li < max_fr_[c].size(); ++li) {
        auto& v = t[c][li];
        const std::size_t size = static_cast<std::size_t>(
            std::min<std::int64_t>(static_cast<std::int64_t>(lv_cache_size), max_fr_[c][li] + 1));
        v.assign(size, 0.0);
        for (std::size_t f = 2; f < size; ++f)
          v[f] = std::pow(static_cast<double>(f) / static_cast<double>(max_fr_[c][li]), h.s);
      }
    }
    return t;
  }

  /// lv of a count (the expression of pyss3, small counts from the cache).
  double lv_of(std::int64_t f, std::size_t c, std::size_t n, const Hyper& h, const LvCache& lvc) const {
    if (f <= 1) return 0.0;
    if (static_cast<std::size_t>(f) < lvc[c][n - 1].size()) return lvc[c][n - 1][static_cast<std::size_t>(f)];
    return std::pow(static_cast<double>(f) / static_cast<double>(max_fr_[c][n - 1]), h.s);
  }

  /// Fills the value tables from stored sg / gv (model files): lv from the counts, then max gv and
  /// cv as compute_values does, so the tables equal a recomputation's.
  void set_stored_values(const StoredValues& sv, const Context& ctx) {
    const std::size_t C = num_categories(), T = num_terms();
    if (dense_fr_) throw StateError("orchard::ss3: stored values are read with the sparse counts of a model file");
    ValueTable& vt = values_;  // the layout is built
    vt.hyper = params_.hyper;
    const std::size_t nnz = vt.entries();
    for (ValueVector* v : {&vt.lv, &vt.sg, &vt.gv, &vt.cv}) resize_populated(*v, nnz);
    // stored entries are the present ones, in the order of the sparse counts
    if (sv.count != sfr_.cat.size()) throw FormatError("orchard::ss3: stored values do not match the counts in model");
    // lv of small counts, computed when first needed (the expressions of lv_table and lv_of): a
    // loaded model uses a few of them. Flat: the cache of (c, n - 1) starts at off[c * L + n - 1].
    const std::size_t L = longest_term();
    std::vector<std::size_t> off(C * L + 1, 0);
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t li = 0; li < L; ++li)
        off[c * L + li + 1] = off[c * L + li] + (li < max_fr_[c].size()
                                                     ? static_cast<std::size_t>(std::min<std::int64_t>(
                                                           static_cast<std::int64_t>(lv_cache_size), max_fr_[c][li] + 1))
                                                     : 0);
    std::vector<double> lvc(off.back(), -1.0);
    const double hs = vt.hyper.s;
    const auto lv_at = [&](std::int64_t f, std::size_t c, std::size_t n) {
      if (f <= 1) return 0.0;
      const std::size_t at = c * L + n - 1;
      const std::size_t lo = off[at];
      if (static_cast<std::size_t>(f) < off[at + 1] - lo) {  // a cached small count
        double& x = lvc[lo + static_cast<std::size_t>(f)];
        if (x < 0) x = std::pow(static_cast<double>(f) / static_cast<double>(max_fr_[c][n - 1]), hs);
        return x;
      }
      return std::pow(static_cast<double>(f) / static_cast<double>(max_fr_[c][n - 1]), hs);
    };
    // max gv per (category, length) while the values are copied (absent entries have gv 0, the
    // maxima start at 0): finish_values takes them as one block's maxima
    std::vector<double> mx(C * L, 0.0);  // [c * L + n - 1]
    const std::size_t* vrow = vt.row.data();
    const std::size_t* srow = sfr_.row.data();
    const std::uint32_t* scat = sfr_.cat.data();
    const std::int64_t* scnt = sfr_.count.data();
    double* lv = vt.lv.data();
    double* sg = vt.sg.data();
    double* gv = vt.gv.data();
    // the words' counts per category, for most_probable_category (compute_most_probable's sums)
    std::vector<std::int64_t> word_counts(C, 0);
    const auto put = [&](std::size_t k, std::size_t s, std::size_t n) {  // entry k, stored entry s
      double a, g;
      std::memcpy(&a, sv.sg + 8 * s, 8);
      std::memcpy(&g, sv.gv + 8 * s, 8);
      if (!(a >= 0.0 && a <= 1.0 && g >= 0.0 && g <= std::numeric_limits<double>::max()))  // sg in [0, 1], gv >= 0
        throw FormatError("orchard::ss3: stored value out of range in model");
      const std::size_t c = scat[s];
      lv[k] = lv_at(scnt[s], c, n);
      sg[k] = a;
      gv[k] = g;
      double& m = mx[c * L + n - 1];
      if (g > m) m = g;
      if (n == 1) word_counts[c] += scnt[s];
    };
    for (std::size_t t = 0; t < T; ++t) {
      const std::size_t n = term_len_[t];
      const std::size_t kb = vrow[t], ke = vrow[t + 1], sb = srow[t], se = srow[t + 1];
      if (ke - kb == se - sb) {  // the row lists exactly the present entries
        for (std::size_t i = 0; i < se - sb; ++i) put(kb + i, sb + i, n);
      } else {  // a dense row (every category, in order): absent entries are 0
        for (std::size_t k = kb; k < ke; ++k) lv[k] = sg[k] = gv[k] = 0.0;
        for (std::size_t s = sb; s < se; ++s) put(kb + scat[s], s, n);
      }
    }
    BlockMaxima part(1);
    init_block_maxima(part[0]);
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t li = 0; li < part[0][c].size(); ++li) part[0][c][li] = mx[c * L + li];
    finish_values(vt, ctx, &part);
    max_changed_.clear();
    categories_changed_ = false;
    std::fill(dirty_.begin(), dirty_.end(), 0);
    most_probable_ = C > 0 ? last_argmax(word_counts) : -1;
  }

  /// The entry layout of a value table: the present (term, category) pairs of the counts.
  void build_layout(ValueTable& vt, const Context& ctx) const {
    const std::size_t C = num_categories(), T = num_terms();
    vt.row.assign(T + 1, 0);
    parallel_blocks(ctx, static_cast<std::int64_t>(T), value_block,
                    [&](std::int64_t, std::int64_t b, std::int64_t e) {
                      for (std::int64_t t = b; t < e; ++t) {
                        const std::size_t u = static_cast<std::size_t>(t);
                        std::size_t n = 0;
                        if (dense_fr_) {
                          const std::int64_t* f = &fr_[u * C];
                          for (std::size_t c = 0; c < C; ++c) n += f[c] > 0 ? 1 : 0;
                        } else {
                          n = sfr_.row[u + 1] - sfr_.row[u];
                        }
                        vt.row[static_cast<std::size_t>(t) + 1] = 2 * n >= C ? C : n;  // dense row
                      }
                    });
    for (std::size_t t = 0; t < T; ++t) vt.row[t + 1] += vt.row[t];
    vt.cat.resize(vt.row[T]);
    parallel_blocks(ctx, static_cast<std::int64_t>(T), value_block,
                    [&](std::int64_t, std::int64_t b, std::int64_t e) {
                      for (std::int64_t t = b; t < e; ++t) {
                        const std::size_t u = static_cast<std::size_t>(t);
                        std::uint32_t* out = vt.cat.data() + vt.row[u];
                        if (vt.row[u + 1] - vt.row[u] == C) {
                          for (std::size_t c = 0; c < C; ++c) out[c] = static_cast<std::uint32_t>(c);
                        } else if (!dense_fr_) {
                          std::copy(sfr_.cat.begin() + static_cast<std::ptrdiff_t>(sfr_.row[u]),
                                    sfr_.cat.begin() + static_cast<std::ptrdiff_t>(sfr_.row[u + 1]), out);
                        } else {
                          const std::int64_t* f = &fr_[u * C];
                          for (std::size_t c = 0; c < C; ++c)
                            if (f[c] > 0) *out++ = static_cast<std::uint32_t>(c);
                        }
                      }
                    });
  }

  /// Per-thread scratch of term_values: the non-zero lv values and a direct-mapped memo of the
  /// sigmoid (rare terms repeat the same few arguments: lv comes from a few small counts, the
  /// median is 0 and the deviation sits at its floor).
  struct Scratch {
    static constexpr unsigned memo_bits = 9;
    struct Memo {
      double v, l, r;
    };
    explicit Scratch(std::size_t C)
        : nz(C), cnt(C), memo(std::size_t{1} << memo_bits, Memo{std::numeric_limits<double>::quiet_NaN(), 0.0, 0.0}) {}
    std::vector<double> nz;
    std::vector<std::int64_t> cnt;  ///< counts of the term's entries
    std::vector<Memo> memo;
    double sigmoid(double v, double l) {
      std::uint64_t a, b;
      std::memcpy(&a, &v, 8);
      std::memcpy(&b, &l, 8);
      const std::uint64_t k = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xd6e8feb86659fd93ull;
      Memo& e = memo[static_cast<std::size_t>(k >> (64 - memo_bits))];
      if (v == e.v && l == e.l) return e.r;  // never true for a NaN argument
      e = Memo{v, l, Model::sigmoid(v, l)};
      return e.r;
    }
  };
  /// lv, sg, gv of one term's entries (every category holding it). Absent categories have lv,
  /// sg and gv 0: they count as zeros in the median / deviation and add nothing to the sanction.
  void term_values(std::size_t t, const Hyper& h, ValueTable& vt, Scratch& scratch,
                   const LvCache& lvc) const {
    const std::size_t C = num_categories();
    const std::size_t n = term_len_[t];
    const std::size_t b = vt.row[t], np = vt.row[t + 1] - b;
    const std::uint32_t* pres = &vt.cat[b];
    std::int64_t* f = scratch.cnt.data();  // f[q]: count of entry q (either form of the counts)
    row_counts(vt, t, f);
    double* lv = &vt.lv[b];
    double* sg = &vt.sg[b];
    double* gv = &vt.gv[b];
    // lv and the non-zero lv values in ascending order (insertion sort: a handful of values)
    double* tmp = scratch.nz.data();
    std::size_t nnz = 0;
    for (std::size_t q = 0; q < np; ++q) {
      const std::size_t c = pres[q];
      const double x = lv_of(f[q], c, n, h, lvc);
      lv[q] = x;
      sg[q] = 0.0;
      gv[q] = 0.0;
      if (x != 0) {
        std::size_t j = nnz++;
        while (j > 0 && tmp[j - 1] > x) {
          tmp[j] = tmp[j - 1];
          --j;
        }
        tmp[j] = x;
      }
    }
    // median and mean absolute deviation of the lv vector (pyss3 sorts it, then sums |M - x| in
    // sorted order). lv >= 0, so the sorted vector is z zeros followed by the sorted non-zero
    // values: the sum skips zeros exactly where |M - 0| adds 0.
    const std::size_t z = C - nnz;
    double M = 0, sd = 0;
    if (C == 2) {
      M = sd = z > 0 ? 0.0 : tmp[0];
    } else {
      const std::size_t mi = C % 2 ? C / 2 : C / 2 - 1;
      double sum = 0;
      if (mi < z) {
        for (std::size_t i = 0; i < nnz; ++i) sum += tmp[i];
      } else {
        M = tmp[mi - z];
        for (std::size_t i = 0; i < z; ++i) sum += M;
        for (std::size_t i = 0; i < nnz; ++i) sum += std::abs(M - tmp[i]);
      }
      sd = sum / static_cast<double>(C);
    }
    bool stopword = M > .2;
    if (!stopword && z == 0) {
      std::size_t k = 0;
      for (std::size_t i = 0; i < nnz; ++i) k += tmp[i] > 0.09 ? 1 : 0;
      stopword = k == C;
    }
    // sg and gv where the term occurs (0 elsewhere, and adding those zeros to the sanction's sum
    // changes nothing)
    if (params_.sg_mode == SgMode::vanilla) {
      for (std::size_t q = 0; q < np; ++q)
        if (f[q] > 0) sg[q] = sd == 0 && lv[q] != 0 ? 1.0 : scratch.sigmoid(lv[q] - M, h.l * sd);
    } else {
      double sdx = sd;
      if (h.l * sdx <= 0.03) sdx = 0.03 / h.l;
      if (!((stopword && sdx <= .1) || M >= .3)) {
        for (std::size_t q = 0; q < np; ++q)
          if (f[q] > 0) sg[q] = sdx == 0 && lv[q] != 0 ? 1.0 : scratch.sigmoid(lv[q] - M, h.l * sdx);
      }
    }
    const double Cd = static_cast<double>(C), C1 = static_cast<double>(C - 1);
    for (std::size_t q = 0; q < np; ++q) {
      if (f[q] <= 0) continue;  // an absent category of a dense row: gv 0
      double sn = 1.0;
      if (C > 1) {
        double sum = 0;
        for (std::size_t r = 0; r < np; ++r)
          if (r != q) sum += std::min(sg[r], 1.0);
        const double base = (Cd - (sum + 1)) / (C1 * (sum + 1));
        sn = h.p == 1.0 ? base : std::pow(base, h.p);
      }
      gv[q] = lv[q] * (sg[q] * sn);
    }
  }

  static double sanction_of(const double* sg, std::size_t c, std::size_t C, double p) {
    if (C <= 1) return 1.0;
    double s = 0;
    for (std::size_t ic = 0; ic < C; ++ic)
      if (ic != c) s += std::min(sg[ic], 1.0);
    const double base = (static_cast<double>(C) - (s + 1)) / (static_cast<double>(C - 1) * (s + 1));
    return p == 1.0 ? base : std::pow(base, p);
  }

  double sanction(const double* sg_row, std::size_t c, double p) const {
    return sanction_of(sg_row, c, num_categories(), p);
  }

  /// cv of entry k = (t, c) of a table whose gv and max gv are final.
  double term_cv_value(std::size_t t, std::size_t k, std::size_t c, const ValueTable& vt,
                       std::int32_t* wbuf) const {
    if (!entry_present(vt, t, k)) return 0.0;
    const std::size_t n = term_len_[t];
    const double maxg = n - 1 < vt.max_gv[c].size() ? vt.max_gv[c][n - 1] : 0.0;
    const double g = vt.gv[k];
    if (n > 1 && params_.cv_mode == CvMode::norm_gv_xai) {
      std::size_t i = n, u = t;
      while (i > 0) {
        wbuf[--i] = term_word_[u];
        u = static_cast<std::size_t>(term_parent_[u]);
        if (i == 0) break;
      }
      double W = 0;  // the words' gv over all categories (absent entries add 0)
      bool all = true;
      for (std::size_t j = 0; j < n; ++j) {
        const std::size_t ut = static_cast<std::size_t>(word_term_[static_cast<std::size_t>(wbuf[j])]);
        bool here = false;
        for (std::size_t q = vt.row[ut]; q < vt.row[ut + 1]; ++q) {
          W += vt.gv[q];
          if (vt.cat[q] == c) here = vt.gv[q] >= .01;
        }
        if (!here) all = false;
      }
      if (W < .05) return 0.0;
      if (maxg == 0) return 0.0;
      return all ? g / maxg + W : g / maxg;
    }
    if (maxg == 0) return 0.0;
    return g / maxg;
  }

  /// Computes a value table. With `only` (a dirty flag per term) only those terms' lv/sg/gv are
  /// recomputed (the others are copied from the table's previous layout); max_gv and cv are
  /// always redone.
  void compute_values(ValueTable& vt, const Hyper& h, const Context& ctx,
                      const std::vector<std::uint8_t>* only, bool layout_built = false) const {
    const std::size_t C = num_categories(), T = num_terms();
    vt.hyper = h;
    ValueTable old;
    if (only && !vt.row.empty() && vt.lv.size() == vt.entries()) {
      old.row.swap(vt.row);
      old.cat.swap(vt.cat);
      old.lv.swap(vt.lv);
      old.sg.swap(vt.sg);
      old.gv.swap(vt.gv);
    } else {
      only = nullptr;  // every term's lv, sg and gv are computed below
    }
    if (!layout_built) build_layout(vt, ctx);
    const std::size_t nnz = vt.entries();
    vt.lv.resize(nnz);  // every entry is written below
    vt.sg.resize(nnz);
    vt.gv.resize(nnz);
    vt.cv.resize(nnz);
    const std::size_t old_terms = old.row.empty() ? 0 : old.row.size() - 1;
    const LvCache lvc = lv_table(h);
    // lv / sg / gv per term and, while the row is at hand, the block's max gv per (category, length)
    BlockMaxima part(static_cast<std::size_t>(num_blocks(static_cast<std::int64_t>(T), value_block)));
    parallel_blocks(ctx, static_cast<std::int64_t>(T), value_block,
                    [&](std::int64_t bi, std::int64_t b, std::int64_t e) {
                      Scratch scratch(C);
                      auto& m = part[static_cast<std::size_t>(bi)];
                      init_block_maxima(m);
                      for (std::int64_t t = b; t < e; ++t) {
                        const std::size_t u = static_cast<std::size_t>(t);
                        bool copied = false;
                        if (only && !(*only)[u] && u < old_terms) {
                          // an unchanged term: its entries and values are the previous ones
                          const std::size_t ob = old.row[u], len = old.row[u + 1] - ob, nb = vt.row[u];
                          if (len == vt.row[u + 1] - nb &&
                              std::equal(&old.cat[0] + ob, &old.cat[0] + ob + len, &vt.cat[0] + nb)) {
                            std::copy_n(&old.lv[0] + ob, len, &vt.lv[0] + nb);
                            std::copy_n(&old.sg[0] + ob, len, &vt.sg[0] + nb);
                            std::copy_n(&old.gv[0] + ob, len, &vt.gv[0] + nb);
                            copied = true;
                          }
                        }
                        if (!copied) term_values(u, h, vt, scratch, lvc);
                        row_maxima(u, vt, m);
                      }
                    });
    finish_values(vt, ctx, &part);
  }

  static constexpr std::int64_t value_block = 4096;
  using BlockMaxima = std::vector<std::vector<std::vector<double>>>;  // [block][c][n-1]
  void init_block_maxima(std::vector<std::vector<double>>& m) const {
    const std::size_t C = num_categories();
    m.resize(C);
    for (std::size_t c = 0; c < C; ++c) m[c].assign(max_fr_[c].size(), 0.0);
  }
  void row_maxima(std::size_t t, const ValueTable& vt, std::vector<std::vector<double>>& m) const {
    const std::size_t li = term_len_[t] - 1u;
    for (std::size_t k = vt.row[t]; k < vt.row[t + 1]; ++k) {
      double& x = m[vt.cat[k]][li];
      if (vt.gv[k] > x) x = vt.gv[k];
    }
  }

  /// max gv per (category, n-gram length) (from per-block maxima, computed here when not given)
  /// and cv from the lv / sg / gv tables.
  void finish_values(ValueTable& vt, const Context& ctx, BlockMaxima* given = nullptr) const {
    const std::size_t C = num_categories(), T = num_terms();
    const std::int64_t nb = num_blocks(static_cast<std::int64_t>(T), value_block);
    BlockMaxima own;
    if (!given) {
      own.resize(static_cast<std::size_t>(nb));
      parallel_blocks(ctx, static_cast<std::int64_t>(T), value_block,
                      [&](std::int64_t bi, std::int64_t b, std::int64_t e) {
                        auto& m = own[static_cast<std::size_t>(bi)];
                        init_block_maxima(m);
                        for (std::int64_t t = b; t < e; ++t) row_maxima(static_cast<std::size_t>(t), vt, m);
                      });
    }
    const BlockMaxima& part = given ? *given : own;
    // per-block maxima combined in block order
    vt.max_gv.assign(C, {});
    for (std::size_t c = 0; c < C; ++c) {
      vt.max_gv[c].assign(max_fr_[c].size(), 0.0);
      for (const auto& m : part)
        for (std::size_t li = 0; li < m[c].size(); ++li)
          if (m[c][li] > vt.max_gv[c][li]) vt.max_gv[c][li] = m[c][li];
    }
    // cv; entries of words (and every entry without the n-gram bonus) are gv / max gv directly
    std::size_t maxlen = 0;
    for (const auto& mf : max_fr_) maxlen = std::max(maxlen, mf.size());
    std::vector<double> maxg(std::max<std::size_t>(maxlen, 1) * C, 0.0);  // [n-1][c]
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t li = 0; li < vt.max_gv[c].size(); ++li) maxg[li * C + c] = vt.max_gv[c][li];
    const bool bonus = params_.cv_mode == CvMode::norm_gv_xai;
    parallel_blocks(ctx, static_cast<std::int64_t>(T), value_block,
                    [&](std::int64_t, std::int64_t b, std::int64_t e) {
                      std::int32_t wbuf[64];
                      for (std::int64_t t = b; t < e; ++t) {
                        const std::size_t u = static_cast<std::size_t>(t);
                        const std::size_t kb = vt.row[u], ke = vt.row[u + 1];
                        if ((term_len_[u] > 1 && bonus) || term_len_[u] > maxlen) {
                          for (std::size_t k = kb; k < ke; ++k) vt.cv[k] = term_cv_value(u, k, vt.cat[k], vt, wbuf);
                          continue;
                        }
                        const double* mg = &maxg[(term_len_[u] - 1u) * C];
                        for (std::size_t k = kb; k < ke; ++k) {
                          const double m = mg[vt.cat[k]];
                          vt.cv[k] = m == 0 ? 0.0 : vt.gv[k] / m;
                        }
                      }
                    });
  }

  void update_values_incremental(const Context& ctx) {
    ensure_dense();  // a no-op after learning (learning builds the dense counts)
    const std::size_t C = num_categories(), T = num_terms();
    if (categories_changed_ || values_.row.empty() || values_.hyper != params_.hyper) {
      // new category or first update: values are computed from scratch
      categories_changed_ = false;
      max_changed_.clear();
      update_values(ctx);
      return;
    }
    if (dirty_.size() < T) dirty_.resize(T, 1);
    // a changed maximum count re-normalises every term of that length present in the category
    for (const auto& [c, li] : max_changed_)
      for (std::size_t t = 0; t < T; ++t)
        if (term_len_[t] == li + 1 && fr_[t * C + c] > 0) dirty_[t] = 1;
    max_changed_.clear();
    compute_values(values_, params_.hyper, ctx, &dirty_);
    std::fill(dirty_.begin(), dirty_.end(), 0);
    most_probable_ = compute_most_probable(true);
  }

  Params params_;
  Tokenizer tok_;
  std::vector<std::string> cat_names_;
  tsl::robin_map<std::string, int> cat_index_;
  std::vector<std::string> words_;
  detail::WordIndex word_index_;  ///< ids of words_
  std::vector<std::int32_t> word_term_;
  std::vector<std::int32_t> term_parent_, term_word_;
  std::vector<std::uint8_t> term_len_;
  tsl::robin_map<std::uint64_t, std::int32_t, TermKeyHash> children_;
  CountVector fr_;                 ///< dense T x C counts (while dense_fr_)
  SparseCounts sfr_;               ///< present entries (while !dense_fr_: a model read from a file)
  bool dense_fr_ = true;
  std::vector<std::vector<std::int64_t>> max_fr_;
  ValueTable values_;
  bool multilabel_ = false;
  std::int64_t prune_counter_ = 0;
  std::int64_t total_words_learned_ = 0;
  std::vector<std::uint8_t> dirty_;
  std::vector<std::pair<std::size_t, std::size_t>> max_changed_;
  bool categories_changed_ = false;
  int most_probable_ = -1;  ///< cached most_probable_category(), -1 when counts changed since
};

}  // namespace orchard::ss3
