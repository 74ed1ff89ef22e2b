#pragma once
// Domain 1, imperative code: linear-GP programs in the style of AutoML-Zero. A program has three
// instruction lists over scalar, vector and matrix registers:
//   setup()   once, before training (e.g. random initial weights)
//   predict() per example: reads the input vector v0, writes the prediction to s1
//   learn()   per training example after predict: reads the label in s0 (and s1, v0)
// Evaluation trains on the task's training set (setup; for each epoch and example predict+learn)
// and scores predictions on its validation set. The functional hash runs the same procedure on
// the canonical probe examples (N_E inputs, labels from the task's target) for N_S seeds and
// emits the predictions. Many mutations (writes to registers nobody reads, no-op arithmetic)
// leave the function unchanged; the cache catches them.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/random.hpp"
#include "../hasher.hpp"

namespace orchard::fhash::lgp {

inline constexpr int kMaxDim = 8;

enum class Op : std::uint8_t {
  // scalar
  s_const,
  s_add,
  s_sub,
  s_mul,
  s_div,
  s_abs,
  s_sin,
  s_cos,
  s_exp,
  s_log,
  s_heaviside,
  s_min,
  s_max,
  s_uniform,
  s_gaussian,
  // vector
  v_add,
  v_sub,
  v_mul,
  v_scale,
  v_dot,
  v_norm,
  v_mean,
  v_get,
  v_set_const,
  v_abs,
  v_heaviside,
  v_uniform,
  v_gaussian,
  // matrix
  m_matvec,
  m_outer,
  m_add,
  m_scale,
  m_gaussian,
  count
};

inline const char* op_name(Op op) {
  static const char* names[] = {
      "s_const", "s_add",       "s_sub",      "s_mul",      "s_div",       "s_abs",
      "s_sin",   "s_cos",       "s_exp",      "s_log",      "s_heaviside", "s_min",
      "s_max",   "s_uniform",   "s_gaussian", "v_add",      "v_sub",       "v_mul",
      "v_scale", "v_dot",       "v_norm",     "v_mean",     "v_get",       "v_set_const",
      "v_abs",   "v_heaviside", "v_uniform",  "v_gaussian", "m_matvec",    "m_outer",
      "m_add",   "m_scale",     "m_gaussian"};
  return names[static_cast<int>(op)];
}

/// One instruction: out = op(in1, in2) with a constant / index parameter. Register kinds follow
/// from the op (see execute()).
struct Instruction {
  Op op = Op::s_const;
  std::uint8_t in1 = 0, in2 = 0, out = 0;
  double c = 0.0;
  bool operator==(const Instruction&) const = default;
};

struct Program {
  std::vector<Instruction> setup, predict, learn;
  bool operator==(const Program&) const = default;
  std::size_t size() const { return setup.size() + predict.size() + learn.size(); }
};

enum class Task { regression, classification };

/// Regression targets: product_sum y = x0 * x1 + x2, product y = x0 * x1, linear y = x0 - 2 x1 +
/// 0.5.
enum class Target { product_sum, product, linear };

struct LinearGpParams {
  Task task = Task::regression;
  Target target = Target::linear;  ///< regression target
  int dim = 4;                     ///< feature / vector register dimension (1..8)
  int num_scalars = 6;             ///< scalar registers (s0 label, s1 prediction): >= 2
  int num_vectors = 4;             ///< vector registers (v0 input): >= 1
  int num_matrices = 2;            ///< matrix registers (>= 0)
  int max_setup = 6, max_predict = 10, max_learn = 6;    ///< instruction list limits
  int init_setup = 0, init_predict = 3, init_learn = 0;  ///< random program sizes
  int num_train = 1000;                                  ///< training examples (evaluation)
  int num_valid = 500;                                   ///< validation examples (evaluation)
  int epochs = 1;
  std::uint64_t data_seed = 7;                       ///< the task's data
  ProbeParams probe{10, 1, 4, -2.0, 2.0, 20230101};  ///< N_E=10, N_S=1; input_dim follows dim
  CanonicalParams canonical{};                       ///< m bits etc.
  std::vector<Op> ops;                               ///< instruction set (empty = every op)

  /// A small scalar instruction set for symbolic regression: read a coordinate, constants,
  /// + - * and min/max.
  static std::vector<Op> scalar_ops() {
    return {Op::v_get, Op::s_const, Op::s_add, Op::s_sub, Op::s_mul, Op::s_min, Op::s_max};
  }

  /// Preset for symbolic regression: predict-only programs over the scalar instruction set,
  /// 3 inputs read from v0, 5 scalar registers, up to 8 instructions.
  static LinearGpParams symbolic_regression(Target target = Target::linear) {
    LinearGpParams p;
    p.task = Task::regression;
    p.target = target;
    p.dim = 3;
    p.num_scalars = 5;
    p.num_vectors = 1;
    p.num_matrices = 0;
    p.max_setup = 0;
    p.max_learn = 0;
    p.max_predict = 8;
    p.init_setup = 0;
    p.init_learn = 0;
    p.init_predict = 3;
    p.ops = scalar_ops();
    return p;
  }

  static bool random_op(Op op) {
    return op == Op::s_uniform || op == Op::s_gaussian || op == Op::v_uniform ||
           op == Op::v_gaussian || op == Op::m_gaussian;
  }

  void validate() const {
    bool deterministic = ops.empty();
    for (Op op : ops) {
      require(op < Op::count, "ops", static_cast<int>(op), "unknown op");
      require(num_matrices > 0 || op < Op::m_matvec, "ops", op_name(op),
              "matrix ops need num_matrices >= 1");
      if (!random_op(op)) deterministic = true;
    }
    require(deterministic, "ops", "random only", "needs at least one deterministic op");
    require(dim >= 1 && dim <= kMaxDim, "dim", dim, "must lie in 1..8");
    require(num_scalars >= 2 && num_scalars <= 64, "num_scalars", num_scalars, "must lie in 2..64");
    require(num_vectors >= 1 && num_vectors <= 64, "num_vectors", num_vectors, "must lie in 1..64");
    require(num_matrices >= 0 && num_matrices <= 64, "num_matrices", num_matrices,
            "must lie in 0..64");
    require(max_setup >= 0 && max_predict >= 1 && max_learn >= 0, "max_predict", max_predict,
            "instruction limits must be >= 0 (predict >= 1)");
    require(init_setup >= 0 && init_setup <= max_setup, "init_setup", init_setup,
            "must lie in 0..max_setup");
    require(init_predict >= 0 && init_predict <= max_predict, "init_predict", init_predict,
            "must lie in 0..max_predict");
    require(init_learn >= 0 && init_learn <= max_learn, "init_learn", init_learn,
            "must lie in 0..max_learn");
    require(num_train >= 1, "num_train", num_train, "must be >= 1");
    require(num_valid >= 1, "num_valid", num_valid, "must be >= 1");
    require(epochs >= 1, "epochs", epochs, "must be >= 1");
  }
};

/// Register file for one execution.
struct Memory {
  int dim = 0;
  std::vector<double> s;
  std::vector<std::array<double, kMaxDim>> v;
  std::vector<std::array<double, kMaxDim * kMaxDim>> m;
  void reset(const LinearGpParams& p) {
    dim = p.dim;
    s.assign(static_cast<std::size_t>(p.num_scalars), 0.0);
    v.assign(static_cast<std::size_t>(p.num_vectors), std::array<double, kMaxDim>{});
    m.assign(static_cast<std::size_t>(p.num_matrices), std::array<double, kMaxDim * kMaxDim>{});
  }
};

/// Executes one instruction list.
inline void execute(const std::vector<Instruction>& code, Memory& mem, Rng& rng) {
  const int d = mem.dim;
  for (const Instruction& ins : code) {
    auto& s = mem.s;
    switch (ins.op) {
      case Op::s_const:
        s[ins.out] = ins.c;
        break;
      case Op::s_add:
        s[ins.out] = s[ins.in1] + s[ins.in2];
        break;
      case Op::s_sub:
        s[ins.out] = s[ins.in1] - s[ins.in2];
        break;
      case Op::s_mul:
        s[ins.out] = s[ins.in1] * s[ins.in2];
        break;
      case Op::s_div:
        s[ins.out] = s[ins.in1] / s[ins.in2];
        break;
      case Op::s_abs:
        s[ins.out] = std::fabs(s[ins.in1]);
        break;
      case Op::s_sin:
        s[ins.out] = std::sin(s[ins.in1]);
        break;
      case Op::s_cos:
        s[ins.out] = std::cos(s[ins.in1]);
        break;
      case Op::s_exp:
        s[ins.out] = std::exp(s[ins.in1]);
        break;
      case Op::s_log:
        s[ins.out] = std::log(s[ins.in1]);
        break;
      case Op::s_heaviside:
        s[ins.out] = s[ins.in1] > 0 ? 1.0 : 0.0;
        break;
      case Op::s_min:
        s[ins.out] = std::min(s[ins.in1], s[ins.in2]);
        break;
      case Op::s_max:
        s[ins.out] = std::max(s[ins.in1], s[ins.in2]);
        break;
      case Op::s_uniform:
        s[ins.out] = rng.uniform(-1.0, 1.0);
        break;
      case Op::s_gaussian:
        s[ins.out] = rng.normal(0.0, 0.1);
        break;
      case Op::v_add: {
        auto &a = mem.v[ins.in1], &b = mem.v[ins.in2];
        auto& o = mem.v[ins.out];
        for (int k = 0; k < d; ++k) o[k] = a[k] + b[k];
        break;
      }
      case Op::v_sub: {
        auto &a = mem.v[ins.in1], &b = mem.v[ins.in2];
        auto& o = mem.v[ins.out];
        for (int k = 0; k < d; ++k) o[k] = a[k] - b[k];
        break;
      }
      case Op::v_mul: {
        auto &a = mem.v[ins.in1], &b = mem.v[ins.in2];
        auto& o = mem.v[ins.out];
        for (int k = 0; k < d; ++k) o[k] = a[k] * b[k];
        break;
      }
      case Op::v_scale: {  // v_out = s_in1 * v_in2
        const double a = s[ins.in1];
        auto& b = mem.v[ins.in2];
        auto& o = mem.v[ins.out];
        for (int k = 0; k < d; ++k) o[k] = a * b[k];
        break;
      }
      case Op::v_dot: {
        double acc = 0;
        for (int k = 0; k < d; ++k) acc += mem.v[ins.in1][k] * mem.v[ins.in2][k];
        s[ins.out] = acc;
        break;
      }
      case Op::v_norm: {
        double acc = 0;
        for (int k = 0; k < d; ++k) acc += mem.v[ins.in1][k] * mem.v[ins.in1][k];
        s[ins.out] = std::sqrt(acc);
        break;
      }
      case Op::v_mean: {
        double acc = 0;
        for (int k = 0; k < d; ++k) acc += mem.v[ins.in1][k];
        s[ins.out] = acc / d;
        break;
      }
      case Op::v_get:
        s[ins.out] = mem.v[ins.in1][static_cast<int>(ins.c) % d];
        break;
      case Op::v_set_const:
        for (int k = 0; k < d; ++k) mem.v[ins.out][k] = ins.c;
        break;
      case Op::v_abs:
        for (int k = 0; k < d; ++k) mem.v[ins.out][k] = std::fabs(mem.v[ins.in1][k]);
        break;
      case Op::v_heaviside:
        for (int k = 0; k < d; ++k) mem.v[ins.out][k] = mem.v[ins.in1][k] > 0 ? 1.0 : 0.0;
        break;
      case Op::v_uniform:
        for (int k = 0; k < d; ++k) mem.v[ins.out][k] = rng.uniform(-1.0, 1.0);
        break;
      case Op::v_gaussian:
        for (int k = 0; k < d; ++k) mem.v[ins.out][k] = rng.normal(0.0, 0.1);
        break;
      case Op::m_matvec: {  // v_out = M_in1 * v_in2
        std::array<double, kMaxDim> tmp{};
        const auto& M = mem.m[ins.in1];
        const auto& x = mem.v[ins.in2];
        for (int r = 0; r < d; ++r) {
          double acc = 0;
          for (int k = 0; k < d; ++k) acc += M[static_cast<std::size_t>(r * kMaxDim + k)] * x[k];
          tmp[r] = acc;
        }
        mem.v[ins.out] = tmp;
        break;
      }
      case Op::m_outer: {  // M_out = v_in1 v_in2^T
        const auto a = mem.v[ins.in1], b = mem.v[ins.in2];
        auto& M = mem.m[ins.out];
        for (int r = 0; r < d; ++r)
          for (int k = 0; k < d; ++k) M[static_cast<std::size_t>(r * kMaxDim + k)] = a[r] * b[k];
        break;
      }
      case Op::m_add: {
        const auto a = mem.m[ins.in1], b = mem.m[ins.in2];
        auto& M = mem.m[ins.out];
        for (int r = 0; r < d; ++r)
          for (int k = 0; k < d; ++k) {
            const auto i = static_cast<std::size_t>(r * kMaxDim + k);
            M[i] = a[i] + b[i];
          }
        break;
      }
      case Op::m_scale: {  // M_out = s_in1 * M_in2
        const double a = s[ins.in1];
        const auto b = mem.m[ins.in2];
        auto& M = mem.m[ins.out];
        for (int r = 0; r < d; ++r)
          for (int k = 0; k < d; ++k) {
            const auto i = static_cast<std::size_t>(r * kMaxDim + k);
            M[i] = a * b[i];
          }
        break;
      }
      case Op::m_gaussian: {
        auto& M = mem.m[ins.out];
        for (int r = 0; r < d; ++r)
          for (int k = 0; k < d; ++k)
            M[static_cast<std::size_t>(r * kMaxDim + k)] = rng.normal(0.0, 0.1);
        break;
      }
      case Op::count:
        break;
    }
  }
}

/// Readable listing of a program.
inline std::string to_string(const Program& p) {
  std::ostringstream os;
  auto list = [&](const char* name, const std::vector<Instruction>& code) {
    os << name << ":\n";
    for (const auto& i : code) {
      os << "  " << op_name(i.op) << " out=" << int(i.out) << " in=" << int(i.in1) << ","
         << int(i.in2) << " c=" << i.c << "\n";
    }
  };
  list("setup", p.setup);
  list("predict", p.predict);
  list("learn", p.learn);
  return os.str();
}

/// A synthetic task: inputs uniform in [-2, 2)^dim, and a target.
///  - regression: see Target (missing coordinates count as x1 = 1, x2 = 0)
///  - classification: y = 1 when x . w > 0 for a fixed random w, else 0
class LinearGpDomain {
 public:
  using Candidate = Program;

  explicit LinearGpDomain(const LinearGpParams& p = {}) : p_(p) {
    p.validate();
    ProbeParams pp = p.probe;
    pp.input_dim = p.dim;
    Rng rng(p.data_seed);
    w_.resize(static_cast<std::size_t>(p.dim));
    for (auto& w : w_) w = rng.normal();
    make_data(rng, p.num_train, train_x_, train_y_);
    make_data(rng, p.num_valid, valid_x_, valid_y_);
    HashParams hp;
    hp.canonical = p.canonical;
    hasher_ = Hasher(hp, ProbeSet(pp));
    const auto& probes = hasher_.probes();
    probe_y_.resize(static_cast<std::size_t>(probes.num_examples()));
    for (int i = 0; i < probes.num_examples(); ++i)
      probe_y_[static_cast<std::size_t>(i)] = target(probes.example(i));
  }

  const LinearGpParams& params() const noexcept { return p_; }
  const Hasher& hasher() const noexcept { return hasher_; }

  double target(const double* x) const {
    if (p_.task == Task::regression) {
      const int d = p_.dim;
      const double a = x[0], b = d > 1 ? x[1] : 1.0, c = d > 2 ? x[2] : 0.0;
      switch (p_.target) {
        case Target::product:
          return a * b;
        case Target::linear:
          return a - 2.0 * b + 0.5;
        default:
          return a * b + c;
      }
    }
    double acc = 0;
    for (int k = 0; k < p_.dim; ++k) acc += x[k] * w_[static_cast<std::size_t>(k)];
    return acc > 0 ? 1.0 : 0.0;
  }

  Program random_candidate(Rng& rng) const {
    Program prog;
    for (int i = 0; i < p_.init_setup; ++i) prog.setup.push_back(random_instruction(rng, 0));
    for (int i = 0; i < p_.init_predict; ++i) prog.predict.push_back(random_instruction(rng, 1));
    for (int i = 0; i < p_.init_learn; ++i) prog.learn.push_back(random_instruction(rng, 2));
    return prog;
  }

  /// One of: alter one instruction's arguments or constant, replace one instruction, insert one,
  /// remove one, or randomize a whole component (AutoML-Zero's mutation set).
  Program mutate(const Program& parent, Rng& rng) const {
    Program child = parent;
    const int comp = pick_component(rng);
    auto& code = comp == 0 ? child.setup : comp == 1 ? child.predict : child.learn;
    const int limit = comp == 0 ? p_.max_setup : comp == 1 ? p_.max_predict : p_.max_learn;
    const auto kind = rng.uniform_int(5);
    if (kind == 0 && !code.empty()) {  // alter arguments
      auto& ins = code[static_cast<std::size_t>(rng.uniform_int(code.size()))];
      const Instruction fresh = random_instruction(rng, comp, ins.op);
      switch (rng.uniform_int(4)) {
        case 0:
          ins.in1 = fresh.in1;
          break;
        case 1:
          ins.in2 = fresh.in2;
          break;
        case 2:
          ins.out = fresh.out;
          break;
        default:
          ins.c = fresh.c;
          break;
      }
    } else if (kind == 1 && !code.empty()) {  // replace instruction
      code[static_cast<std::size_t>(rng.uniform_int(code.size()))] = random_instruction(rng, comp);
    } else if (kind == 2 && static_cast<int>(code.size()) < limit) {  // insert
      const auto at = static_cast<std::ptrdiff_t>(rng.uniform_int(code.size() + 1));
      code.insert(code.begin() + at, random_instruction(rng, comp));
    } else if (kind == 3 && !code.empty()) {  // remove
      code.erase(code.begin() + static_cast<std::ptrdiff_t>(rng.uniform_int(code.size())));
    } else if (limit > 0) {  // randomize component
      const auto n = rng.uniform_int(static_cast<std::uint64_t>(limit) + 1);
      code.clear();
      for (std::uint64_t i = 0; i < n; ++i) code.push_back(random_instruction(rng, comp));
    }
    return child;
  }

  /// Runs the program on (x, y) training pairs then predicts on `px`; calls sink(prediction) for
  /// every prediction made (training predictions first, then the held-out ones).
  template <class Sink>
  void run(const Program& prog, const std::vector<double>& tx, const std::vector<double>& ty,
           const std::vector<double>& px, int epochs, Rng& rng, Sink&& sink) const {
    Memory mem;
    mem.reset(p_);
    const int d = p_.dim;
    execute(prog.setup, mem, rng);
    const std::size_t n_train = ty.size();
    for (int e = 0; e < epochs; ++e) {
      for (std::size_t i = 0; i < n_train; ++i) {
        load_input(mem, tx.data() + i * static_cast<std::size_t>(d));
        execute(prog.predict, mem, rng);
        sink(mem.s[1], true);
        mem.s[0] = ty[i];
        execute(prog.learn, mem, rng);
      }
    }
    const std::size_t n_pred = px.size() / static_cast<std::size_t>(d);
    for (std::size_t i = 0; i < n_pred; ++i) {
      load_input(mem, px.data() + i * static_cast<std::size_t>(d));
      execute(prog.predict, mem, rng);
      sink(mem.s[1], false);
    }
  }

  /// The functional hash: train on the first half of the probe inputs (labels from the task),
  /// predict on the second half; every prediction is emitted.
  std::uint64_t hash(const Program& prog) const { return hash_result(prog).hash; }

  HashResult hash_result(const Program& prog) const {
    return hasher_.hash([&](ProbeRun& run) {
      const auto& ps = run.probes();
      const int n = ps.num_examples(), d = ps.input_dim();
      const int n_train = std::max(1, n / 2);
      std::vector<double> tx(ps.example(0), ps.example(0) + static_cast<std::size_t>(n_train) * d);
      std::vector<double> ty(probe_y_.begin(), probe_y_.begin() + n_train);
      std::vector<double> px(ps.example(n_train), ps.example(0) + static_cast<std::size_t>(n) * d);
      this->run(prog, tx, ty, px, 1, run.rng(), [&](double v, bool) { run.emit(v); });
    });
  }

  /// Fitness on the validation set after training: regression 1 / (1 + MSE); classification
  /// accuracy (prediction > 0.5 -> class 1). Non-finite predictions score 0.
  double evaluate(const Program& prog, Rng& rng) const {
    double loss = 0;
    std::size_t k = 0;
    bool bad = false;
    run(prog, train_x_, train_y_, valid_x_, p_.epochs, rng, [&](double v, bool training) {
      if (training) return;
      if (!std::isfinite(v)) bad = true;
      const double y = valid_y_[k++];
      if (p_.task == Task::regression) {
        loss += (v - y) * (v - y);
      } else {
        loss += ((v > 0.5) == (y > 0.5)) ? 0.0 : 1.0;
      }
    });
    if (bad) return 0.0;
    const double mean = loss / static_cast<double>(valid_y_.size());
    return p_.task == Task::regression ? 1.0 / (1.0 + mean) : 1.0 - mean;
  }

 private:
  void make_data(Rng& rng, int n, std::vector<double>& x, std::vector<double>& y) const {
    x.resize(static_cast<std::size_t>(n) * p_.dim);
    y.resize(static_cast<std::size_t>(n));
    for (auto& v : x) v = rng.uniform(-2.0, 2.0);
    for (int i = 0; i < n; ++i)
      y[static_cast<std::size_t>(i)] = target(x.data() + static_cast<std::size_t>(i) * p_.dim);
  }
  void load_input(Memory& mem, const double* x) const {
    for (int k = 0; k < p_.dim; ++k) mem.v[0][k] = x[k];
  }
  int pick_component(Rng& rng) const {
    std::vector<int> comps;
    if (p_.max_setup > 0) comps.push_back(0);
    comps.push_back(1);
    if (p_.max_learn > 0) comps.push_back(2);
    return comps[static_cast<std::size_t>(rng.uniform_int(comps.size()))];
  }

  /// Ops usable in a component: random ops only in setup; matrix ops only with matrices.
  bool allowed(Op op, int comp) const {
    if (LinearGpParams::random_op(op) && comp != 0) return false;
    if (op >= Op::m_matvec && p_.num_matrices == 0) return false;
    return p_.ops.empty() || std::find(p_.ops.begin(), p_.ops.end(), op) != p_.ops.end();
  }

  Instruction random_instruction(Rng& rng, int comp, Op fixed = Op::count) const {
    Instruction ins;
    if (fixed != Op::count) {
      ins.op = fixed;
    } else {
      do {
        ins.op = static_cast<Op>(rng.uniform_int(static_cast<std::uint64_t>(Op::count)));
      } while (!allowed(ins.op, comp));
    }
    const auto ns = static_cast<std::uint64_t>(p_.num_scalars);
    const auto nv = static_cast<std::uint64_t>(p_.num_vectors);
    const auto nm = static_cast<std::uint64_t>(std::max(1, p_.num_matrices));
    auto reg = [&](char kind) -> std::uint8_t {
      return static_cast<std::uint8_t>(rng.uniform_int(kind == 's' ? ns : kind == 'v' ? nv : nm));
    };
    // Register kinds per op: in1, in2, out.
    const char* sig = "sss";
    switch (ins.op) {
      case Op::v_add:
      case Op::v_sub:
      case Op::v_mul:
        sig = "vvv";
        break;
      case Op::v_scale:
        sig = "svv";
        break;
      case Op::v_dot:
        sig = "vvs";
        break;
      case Op::v_norm:
      case Op::v_mean:
      case Op::v_get:
        sig = "vvs";
        break;
      case Op::v_set_const:
      case Op::v_uniform:
      case Op::v_gaussian:
        sig = "vvv";
        break;
      case Op::v_abs:
      case Op::v_heaviside:
        sig = "vvv";
        break;
      case Op::m_matvec:
        sig = "mvv";
        break;
      case Op::m_outer:
        sig = "vvm";
        break;
      case Op::m_add:
        sig = "mmm";
        break;
      case Op::m_scale:
        sig = "smm";
        break;
      case Op::m_gaussian:
        sig = "mmm";
        break;
      default:
        break;
    }
    ins.in1 = reg(sig[0]);
    ins.in2 = reg(sig[1]);
    ins.out = reg(sig[2]);
    if (ins.op == Op::v_get) {
      ins.c = static_cast<double>(rng.uniform_int(static_cast<std::uint64_t>(p_.dim)));
    } else {
      ins.c = std::round(rng.uniform(-2.0, 2.0) * 4.0) / 4.0;
    }
    return ins;
  }

  LinearGpParams p_;
  Hasher hasher_;
  std::vector<double> w_;
  std::vector<double> train_x_, train_y_, valid_x_, valid_y_, probe_y_;
};

}  // namespace orchard::fhash::lgp
