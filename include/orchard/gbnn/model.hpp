#pragma once
// GBNN: a one-hidden-layer network trained as an additive expansion, J logistic hidden units per
// boosting step (Emami & Martínez-Muñoz, "Sequential Training of Neural Networks with Gradient
// Boosting", IEEE Access 11, 2023). Each step fits a small network (J hidden, K linear outputs)
// jointly by L-BFGS to the pseudo-residuals of a seeded subsample, then scales it by a Newton
// step. F and the current step's hidden activations are kept incrementally; the training loop
// allocates nothing after its set-up.
#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../core/json.hpp"
#include "../core/random.hpp"
#include "common.hpp"
#include "lbfgs.hpp"
#include "network.hpp"
#include "objective.hpp"
#include "params.hpp"
#include "targets.hpp"

namespace orchard::gbnn {

namespace detail {

/// Work of one output of a loss or its gradient (an exp, a log) in block_rows' units of one
/// multiply-add: blocks of ~500 rows at K = 10, so the per-step loss and residuals over a few
/// thousand rows use every thread (at 20 per output they ran as one block).
inline constexpr index_t kExpWork = 200;

/// Mean loss of raw scores F against targets (squared: (y − F)², binary: ln(1 + e^{−2yF}),
/// multiclass: cross-entropy), reduced over fixed row blocks.
template <class T>
double mean_loss(const RowMatrix<T>& F, const Targets<T>& t, const Context& ctx,
                 const RowMatrix<T>* f = nullptr, const T* rho = nullptr) {
  const index_t n = F.rows(), K = F.cols(), br = block_rows(n, 0, kExpWork * K);
  std::vector<double> part(static_cast<std::size_t>(num_blocks(n, br)), 0.0);
  parallel_blocks(ctx, n, br, [&](index_t b, index_t s, index_t e) {
    double acc = 0;
    Eigen::Array<T, 1, Eigen::Dynamic> row(K);  // a multiclass row of F (+ ρ∘f), float models
    auto at = [&](index_t i, index_t k) {
      // F + ρ∘f when a trial step is given (evaluated without changing F)
      return f == nullptr ? static_cast<double>(F(i, k))
                          : static_cast<double>(F(i, k) + rho[k] * (*f)(i, k));
    };
    for (index_t i = s; i < e; ++i) {
      if (t.loss == Loss::squared) {
        const double r = static_cast<double>(t.y[i]) - at(i, 0);
        acc += r * r;
      } else if (t.loss == Loss::binary) {
        acc += log1pexp(-2.0 * static_cast<double>(t.y[i]) * at(i, 0));
      } else if constexpr (std::is_same_v<T, float>) {
        // the exps in float, vectorised; the log-sum and the sum over rows in double
        for (index_t k = 0; k < K; ++k) row[k] = static_cast<T>(at(i, k));
        const T mx = row.maxCoeff();
        const T sum = (row - mx).exp().sum();
        acc += static_cast<double>(mx) + std::log(static_cast<double>(sum)) -
               static_cast<double>(row[static_cast<index_t>(t.y[i])]);
      } else {  // scalar: GCC 12 warns in Eigen's AVX-512 exp for double (GCC bug 105593)
        double mx = -std::numeric_limits<double>::infinity();
        for (index_t k = 0; k < K; ++k) mx = std::max(mx, at(i, k));
        double sum = 0;
        for (index_t k = 0; k < K; ++k) sum += std::exp(at(i, k) - mx);
        acc += mx + std::log(sum) - at(i, static_cast<index_t>(t.y[i]));
      }
    }
    part[static_cast<std::size_t>(b)] = acc;
  });
  double total = 0;
  for (double v : part) total += v;
  return n > 0 ? total / static_cast<double>(n) : 0.0;
}

/// Copies rows of a view into a contiguous row-major buffer.
template <class T>
void gather_rows(ConstMatrixView<T> X, index_t s, index_t e, RowMatrix<T>& out) {
  out.resize(e - s, X.cols);
  for (index_t i = s; i < e; ++i)
    for (index_t j = 0; j < X.cols; ++j) out(i - s, j) = X(i, j);
}

}  // namespace detail

template <class T = double>
class Model {
 public:
  Model() = default;

  /// Trains on X (n × d) and y (regression values, or class indices 0..C−1).
  void fit(ConstMatrixView<T> X, ConstVectorView<T> y, const Params& params,
           const Context& ctx = Context(), const ProgressFn& progress = {}) {
    fit_impl(X, y, nullptr, nullptr, params, ctx, progress);
  }

  /// Trains with a validation set: its loss is reported to `progress` and drives early stopping
  /// (params.early_stopping_rounds).
  void fit(ConstMatrixView<T> X, ConstVectorView<T> y, ConstMatrixView<T> X_valid,
           ConstVectorView<T> y_valid, const Params& params, const Context& ctx = Context(),
           const ProgressFn& progress = {}) {
    fit_impl(X, y, &X_valid, &y_valid, params, ctx, progress);
  }

  bool fitted() const { return steps_ > 0; }
  int n_steps() const { return static_cast<int>(steps_); }
  int units_per_step() const { return static_cast<int>(J_); }
  index_t n_features() const { return d_; }
  index_t n_outputs() const { return K_; }
  int n_classes() const { return n_classes_; }
  Loss loss() const { return loss_; }
  const Vector<T>& f0() const { return f0_; }
  /// ρ_t (per output) of each step: steps × K.
  const RowMatrix<T>& rho() const { return rho_; }
  const RowMatrix<T>& W1() const { return W1_; }  ///< d × (steps·J), step t in columns [tJ, tJ+J)
  const Vector<T>& b1() const { return b1_; }
  const RowMatrix<T>& W2() const { return W2_; }  ///< (steps·J) × K, unscaled by ρ
  const RowMatrix<T>& b2() const { return b2_; }  ///< steps × K, unscaled by ρ
  const std::vector<double>& train_losses() const { return train_losses_; }
  const std::vector<double>& valid_losses() const { return valid_losses_; }
  /// L-BFGS objective evaluations of each step.
  const std::vector<long>& evaluations() const { return evaluations_; }

  /// Raw scores F(x) = F0 + Σ_{t<n_steps} ρ_t h_t(x): n × K (binary: half the log-odds).
  RowMatrix<T> decision_function(ConstMatrixView<T> X, int n_steps = -1,
                                 const Context& ctx = Context()) const {
    const index_t S = check_predict(X, n_steps);
    RowMatrix<T> F(X.rows, K_);
    accumulate(X, S, ctx, F, nullptr);
    return F;
  }

  /// Class probabilities (binary: [1 − p, p] with p = 1/(1 + e^{−2F})), or values (regression).
  RowMatrix<T> predict_proba(ConstMatrixView<T> X, int n_steps = -1,
                             const Context& ctx = Context()) const {
    return to_proba(decision_function(X, n_steps, ctx));
  }

  /// Predicted value (regression) or class index per row.
  Vector<T> predict(ConstMatrixView<T> X, int n_steps = -1, const Context& ctx = Context()) const {
    return to_label(decision_function(X, n_steps, ctx));
  }

  /// Raw scores after each step 1..n_steps(), computed incrementally in one pass.
  std::vector<RowMatrix<T>> staged_decision_function(ConstMatrixView<T> X,
                                                     const Context& ctx = Context()) const {
    const index_t S = check_predict(X, -1);
    std::vector<RowMatrix<T>> out(static_cast<std::size_t>(S), RowMatrix<T>(X.rows, K_));
    RowMatrix<T> F(X.rows, K_);
    accumulate(X, S, ctx, F, &out);
    return out;
  }

  /// Predictions (values or class indices) after each step.
  std::vector<Vector<T>> staged_predict(ConstMatrixView<T> X, const Context& ctx = Context()) const {
    std::vector<Vector<T>> out;
    for (const auto& F : staged_decision_function(X, ctx)) out.push_back(to_label(F));
    return out;
  }

  /// Score after each step: accuracy (classification) or mean squared error (regression), as the
  /// reference package's staged_score.
  std::vector<double> staged_score(ConstMatrixView<T> X, ConstVectorView<T> y,
                                   const Context& ctx = Context()) const {
    require(fitted(), "model", "unfitted", "train or load a model first");
    (void)detail::make_eval_targets(y, loss_, n_classes_, X.rows, "y");  // validates y
    std::vector<double> out;
    for (const auto& F : staged_decision_function(X, ctx)) out.push_back(score_of(F, y));
    return out;
  }

  /// Accuracy (classification) or mean squared error (regression) of the first n_steps steps.
  double score(ConstMatrixView<T> X, ConstVectorView<T> y, int n_steps = -1,
               const Context& ctx = Context()) const {
    (void)detail::make_eval_targets(y, loss_, n_classes_, X.rows, "y");  // validates y
    return score_of(decision_function(X, n_steps, ctx), y);
  }

  /// One dense network with steps·J hidden units that predicts what this model predicts: W1 and
  /// b1 blocks concatenated, output weights scaled by ρ_t (and doubled for binary, turning half
  /// log-odds into log-odds); stage_b2 holds the output bias after each step for switch-off.
  Network<T> to_network() const {
    require(fitted(), "model", "unfitted", "train or load a model first");
    Network<T> net;
    const T mult = loss_ == Loss::binary ? T(2) : T(1);
    net.output = loss_ == Loss::squared   ? Output::identity
                 : loss_ == Loss::binary ? Output::logistic
                                         : Output::softmax;
    net.W1 = W1_;
    net.b1 = b1_;
    net.W2.resize(steps_ * J_, K_);
    net.units_per_step = J_;
    net.stage_b2.resize(steps_ + 1, K_);
    Vector<T> bias = f0_;
    net.stage_b2.row(0) = (mult * bias).transpose();
    for (index_t t = 0; t < steps_; ++t) {
      for (index_t j = 0; j < J_; ++j)
        for (index_t k = 0; k < K_; ++k)
          net.W2(t * J_ + j, k) = W2_(t * J_ + j, k) * rho_(t, k) * mult;
      for (index_t k = 0; k < K_; ++k) bias[k] += rho_(t, k) * b2_(t, k);
      net.stage_b2.row(t + 1) = (mult * bias).transpose();
    }
    net.b2 = net.stage_b2.row(steps_).transpose();
    return net;
  }

  /// Keeps the first n steps only.
  void truncate(int n) {
    require(n >= 1 && n <= steps_, "n", n, "must lie in [1, n_steps()]");
    steps_ = n;
    W1_.conservativeResize(d_, steps_ * J_);
    b1_.conservativeResize(steps_ * J_);
    W2_.conservativeResize(steps_ * J_, K_);
    b2_.conservativeResize(steps_, K_);
    rho_.conservativeResize(steps_, K_);
    if (train_losses_.size() > static_cast<std::size_t>(n)) train_losses_.resize(n);
    if (valid_losses_.size() > static_cast<std::size_t>(n)) valid_losses_.resize(n);
    if (evaluations_.size() > static_cast<std::size_t>(n)) evaluations_.resize(n);
  }

  nlohmann::json to_json() const {
    require(fitted(), "model", "unfitted", "train or load a model first");
    nlohmann::json j = json::model_header("gbnn", 1);
    j["scalar"] = sizeof(T) == 4 ? "float" : "double";
    j["loss"] = to_string(loss_);
    j["n_features"] = d_;
    j["n_outputs"] = K_;
    j["n_classes"] = n_classes_;
    j["units_per_step"] = J_;
    j["steps"] = steps_;
    j["f0"] = Network<T>::flat(f0_);
    j["W1"] = Network<T>::flat(W1_);
    j["b1"] = Network<T>::flat(b1_);
    j["W2"] = Network<T>::flat(W2_);
    j["b2"] = Network<T>::flat(b2_);
    j["rho"] = Network<T>::flat(rho_);
    j["train_losses"] = train_losses_;
    j["valid_losses"] = valid_losses_;
    return j;
  }

  static Model from_json(const nlohmann::json& j) {
    json::check_model_header(j, "gbnn", 1);
    const char* w = "gbnn model";
    Model m;
    const auto loss = json::get<std::string>(j, "loss", w);
    if (loss == "squared") m.loss_ = Loss::squared;
    else if (loss == "binary") m.loss_ = Loss::binary;
    else if (loss == "multiclass") m.loss_ = Loss::multiclass;
    else throw FormatError("orchard: gbnn model: unknown loss \"" + loss + "\"");
    m.d_ = json::get<index_t>(j, "n_features", w);
    m.K_ = json::get<index_t>(j, "n_outputs", w);
    m.n_classes_ = json::get<int>(j, "n_classes", w);
    m.J_ = json::get<index_t>(j, "units_per_step", w);
    m.steps_ = json::get<index_t>(j, "steps", w);
    const bool ok_sizes = m.d_ > 0 && m.d_ <= (1 << 26) && m.K_ > 0 && m.K_ <= (1 << 20) &&
                          m.J_ > 0 && m.J_ <= (1 << 20) && m.steps_ > 0 &&
                          m.steps_ <= (1 << 24) && m.steps_ * m.J_ <= (1 << 26);
    const bool ok_task = (m.loss_ == Loss::squared && m.K_ == 1 && m.n_classes_ == 0) ||
                         (m.loss_ == Loss::binary && m.K_ == 1 && m.n_classes_ == 2) ||
                         (m.loss_ == Loss::multiclass && m.K_ == m.n_classes_ && m.K_ >= 3);
    if (!ok_sizes || !ok_task) throw FormatError("orchard: gbnn model: inconsistent sizes");
    const index_t H = m.steps_ * m.J_;
    m.f0_ = Network<T>::unflat_matrix(j, "f0", m.K_, 1);
    m.W1_ = Network<T>::unflat_matrix(j, "W1", m.d_, H);
    m.b1_ = Network<T>::unflat_matrix(j, "b1", H, 1);
    m.W2_ = Network<T>::unflat_matrix(j, "W2", H, m.K_);
    m.b2_ = Network<T>::unflat_matrix(j, "b2", m.steps_, m.K_);
    m.rho_ = Network<T>::unflat_matrix(j, "rho", m.steps_, m.K_);
    m.train_losses_ = json::get<std::vector<double>>(j, "train_losses", w);
    m.valid_losses_ = json::get<std::vector<double>>(j, "valid_losses", w);
    return m;
  }

  void save(const std::string& path) const { json::write_file(path, to_json()); }
  static Model load(const std::string& path) { return from_json(json::read_file(path)); }

 private:
  // ---- training ------------------------------------------------------------------------------
  void fit_impl(ConstMatrixView<T> Xv, ConstVectorView<T> yv, const ConstMatrixView<T>* Xval,
                const ConstVectorView<T>* yval, const Params& params_in, const Context& ctx,
                const ProgressFn& progress) {
    const Params p = params_in.effective();
    require(Xv.rows > 0, "X.rows", Xv.rows, "must be > 0");
    require(Xv.cols > 0, "X.cols", Xv.cols, "must be > 0");
    require(p.early_stopping_rounds == 0 || Xval != nullptr, "early_stopping_rounds",
            p.early_stopping_rounds, "needs validation data (use the fit overload with X_valid)");
    detail::EigenSingleThread single;
    const auto t_start = std::chrono::steady_clock::now();

    // Set-up: every buffer the loop uses is allocated here.
    RowMatrix<T> X;
    detail::copy_checked(Xv, X, "X");
    const index_t n = X.rows(), d = X.cols();
    const detail::Targets<T> tg = detail::make_targets(yv, p.task, n, "y");
    const index_t K = tg.K, J = p.units, T_ = p.steps;
    RowMatrix<T> Xva;
    detail::Targets<T> tv;
    const bool has_valid = Xval != nullptr;
    if (has_valid) {
      require(Xval->cols == d, "X_valid.cols", Xval->cols,
              "must equal X.cols (" + std::to_string(d) + ")");
      require(Xval->rows > 0, "X_valid.rows", Xval->rows, "must be > 0");
      detail::copy_checked(*Xval, Xva, "X_valid");
      tv = detail::make_eval_targets(*yval, tg.loss, tg.n_classes, Xva.rows(), "y_valid");
    }

    loss_ = tg.loss;
    n_classes_ = tg.n_classes;
    d_ = d;
    K_ = K;
    J_ = J;
    steps_ = 0;
    f0_ = initial_score(tg);
    W1_.setZero(d, T_ * J);
    b1_.setZero(T_ * J);
    W2_.setZero(T_ * J, K);
    b2_.setZero(T_, K);
    rho_.setZero(T_, K);
    train_losses_.clear();
    valid_losses_.clear();
    evaluations_.clear();
    train_losses_.reserve(static_cast<std::size_t>(T_));
    valid_losses_.reserve(has_valid ? static_cast<std::size_t>(T_) : 0);
    evaluations_.reserve(static_cast<std::size_t>(T_));

    RowMatrix<T> F(n, K), R(n, K), f(n, K), H(n, J);
    for (index_t i = 0; i < n; ++i) F.row(i) = f0_.transpose();
    RowMatrix<T> Fv, fv, Hv;
    if (has_valid) {
      Fv.resize(Xva.rows(), K);
      fv.resize(Xva.rows(), K);
      Hv.resize(Xva.rows(), J);
      for (index_t i = 0; i < Fv.rows(); ++i) Fv.row(i) = f0_.transpose();
    }
    const index_t n_sub = std::max<index_t>(
        1, static_cast<index_t>(std::floor(p.subsample * static_cast<double>(n))));
    const bool full = n_sub == n;
    RowMatrix<T> Xs, Rs;
    if (!full) Rs.resize(n_sub, K);
    std::vector<index_t> idx(static_cast<std::size_t>(n_sub));

    // The step objective on the Context's device (CPU, or the registered CUDA path).
    const auto obj =
        detail::make_objective<T>(ctx, n_sub, d, J, K, OutputLoss::squared, static_cast<T>(p.alpha));
    // Byte-coded features on AMX integer tiles where they apply (Params::int8_tiles): the codes
    // of the whole training set once, then each step binds its subsample's rows of them.
    auto* net = dynamic_cast<NetObjective<T>*>(obj.get());
    CodedSteps cs;
    const bool coded = p.int8_tiles && net != nullptr && net->tiles_apply() &&
                       detail::byte_codes(X.data(), n, d, cs.codes, cs.code_scale, ctx);
    if (coded) cs.prepare(n, d, J, ctx);
    if (!full && !coded) Xs.resize(n_sub, d);  // the float kernels' copy of the subsample
    const index_t P = obj->n_params();
    Vector<T> w(P);
    // Value scaled by 1/K: ½·(mean over all n·K residual entries) + α/(2nK)‖W‖², the package's
    // (scikit-learn's) loss value up to the penalty's 1/K, so its relative-decrease stop applies.
    detail::LbfgsDriver<T> lbfgs(P, p.lbfgs_memory, p.tol, p.ftol, p.max_iter,
                                 1.0 / static_cast<double>(K));
    RowMatrix<T> step_part(num_blocks(n, newton_block(n)), 2 * K);

    const Rng base(p.seed);
    double best_valid = std::numeric_limits<double>::infinity();
    index_t best_steps = 0;

    for (index_t t = 0; t < T_; ++t) {
      // 1. pseudo-residuals on the full training set
      residuals(F, tg, R, ctx);
      // 2. seeded subsample (selection sampling, increasing row order)
      const T* Xfit = X.data();
      const T* Rfit = R.data();
      if (!full) {
        Rng rs = base.split(static_cast<std::uint64_t>(2 * t));
        index_t need = n_sub, k = 0;
        for (index_t i = 0; i < n && need > 0; ++i) {
          if (static_cast<index_t>(rs.uniform_int(static_cast<std::uint64_t>(n - i))) < need) {
            idx[static_cast<std::size_t>(k++)] = i;
            --need;
          }
        }
        parallel_blocks(ctx, n_sub, detail::block_rows(n_sub, 0, d), [&](index_t, index_t s, index_t e) {
          for (index_t r = s; r < e; ++r) {
            if (!coded) Xs.row(r) = X.row(idx[static_cast<std::size_t>(r)]);
            Rs.row(r) = R.row(idx[static_cast<std::size_t>(r)]);
          }
        });
        Xfit = Xs.data();  // empty when coded: bind_codes takes the codes
        Rfit = Rs.data();
      }
      // 3. initial weights (Glorot-uniform, scikit-learn's bound for logistic units)
      Rng ri = base.split(static_cast<std::uint64_t>(2 * t + 1));
      detail::glorot_init(ri, d, J, K, w);
      // 4. fit the step network by L-BFGS (the best point seen is kept if the search stops early)
      if (coded)
        net->bind_codes(cs.codes.data(), full ? nullptr : idx.data(), n_sub, cs.code_scale, Rfit, ctx);
      else
        obj->bind(Xfit, Rfit, n_sub, ctx);
      lbfgs.minimize(*obj, w);
      evaluations_.push_back(lbfgs.evaluations());
      store_step(t, w);
      // 5. f = h_t(X) on the full set, Newton step, F += ρ f
      if (coded)
        coded_step_outputs(cs, t, ctx, H, f);
      else
        step_outputs(X, t, ctx, H, f);
      newton_step(t, f, R, tg, p, ctx, step_part);
      if (p.safeguard_step && !p.exact_reference) {
        // Backtrack ρ_t by halves until the training loss does not increase: a step network fit
        // on a subsample can overshoot on the full set (and the multiclass Newton step uses a
        // diagonal curvature).
        const double before = t == 0 ? detail::mean_loss(F, tg, ctx) : train_losses_.back();
        for (int halvings = 0; halvings < 60; ++halvings) {
          const double after = detail::mean_loss(F, tg, ctx, &f, &rho_(t, 0));
          if (after <= before) break;
          rho_.row(t) *= T(0.5);
          if (halvings == 59) rho_.row(t).setZero();
        }
      }
      add_step(F, f, t, ctx);
      steps_ = t + 1;
      train_losses_.push_back(detail::mean_loss(F, tg, ctx));
      double vl = std::numeric_limits<double>::quiet_NaN();
      if (has_valid) {
        step_outputs(Xva, t, ctx, Hv, fv);
        add_step(Fv, fv, t, ctx);
        vl = detail::mean_loss(Fv, tv, ctx);
        valid_losses_.push_back(vl);
        if (vl < best_valid) {
          best_valid = vl;
          best_steps = t + 1;
        }
      }
      bool go_on = true;
      if (progress) {
        Progress pr;
        pr.step = static_cast<int>(t + 1);
        pr.total = static_cast<int>(T_);
        pr.train_loss = train_losses_.back();
        pr.valid_loss = vl;
        pr.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        go_on = progress(pr);
      }
      if (p.early_stopping_rounds > 0 && t + 1 - best_steps >= p.early_stopping_rounds) break;
      if (!go_on) break;
    }
    const index_t done = steps_;
    steps_ = T_;  // storage is sized for T_ steps; shrink to what was kept
    const index_t keep = p.early_stopping_rounds > 0 && best_steps > 0 ? best_steps : done;
    truncate(static_cast<int>(keep));
  }

  Vector<T> initial_score(const detail::Targets<T>& tg) const {
    Vector<T> f0 = Vector<T>::Zero(tg.K);
    if (tg.loss == Loss::squared) {
      double s = 0;
      for (index_t i = 0; i < tg.y.size(); ++i) s += static_cast<double>(tg.y[i]);
      f0[0] = static_cast<T>(s / static_cast<double>(tg.y.size()));
    } else if (tg.loss == Loss::binary) {
      double s = 0;
      for (index_t i = 0; i < tg.y.size(); ++i) s += static_cast<double>(tg.y[i]);
      const double m = s / static_cast<double>(tg.y.size());
      f0[0] = static_cast<T>(0.5 * std::log((1 + m) / (1 - m)));
    }
    return f0;
  }

  static void residuals(const RowMatrix<T>& F, const detail::Targets<T>& tg, RowMatrix<T>& R,
                        const Context& ctx) {
    const index_t n = F.rows(), K = F.cols();
    parallel_blocks(ctx, n, detail::block_rows(n, 0, detail::kExpWork * K), [&](index_t, index_t s, index_t e) {
      for (index_t i = s; i < e; ++i) {
        if (tg.loss == Loss::squared) {
          R(i, 0) = tg.y[i] - F(i, 0);
        } else if (tg.loss == Loss::binary) {
          const T y = tg.y[i];
          const T r = T(2) * y / (T(1) + std::exp(T(2) * y * F(i, 0)));
          R(i, 0) = std::isfinite(r) ? r : T(0);
        } else {  // Y − softmax(F): K exps per row (held in R), one sum, K divides
          const T mx = F.row(i).maxCoeff();
          T sum = 0;
          for (index_t k = 0; k < K; ++k) sum += R(i, k) = std::exp(F(i, k) - mx);
          for (index_t k = 0; k < K; ++k) R(i, k) = tg.Y(i, k) - R(i, k) / sum;
        }
      }
    });
  }

  void store_step(index_t t, const Vector<T>& w) {
    const index_t d = d_, J = J_, K = K_;
    for (index_t i = 0; i < d; ++i)
      for (index_t j = 0; j < J; ++j) W1_(i, t * J + j) = w[i * J + j];
    for (index_t j = 0; j < J; ++j)
      for (index_t k = 0; k < K; ++k) W2_(t * J + j, k) = w[d * J + j * K + k];
    for (index_t j = 0; j < J; ++j) b1_[t * J + j] = w[d * J + J * K + j];
    for (index_t k = 0; k < K; ++k) b2_(t, k) = w[d * J + J * K + J + k];
  }

  /// f = h_t(X) = σ(X W1_t + b1_t) W2_t + b2_t for every row of the contiguous X.
  void step_outputs(const RowMatrix<T>& X, index_t t, const Context& ctx, RowMatrix<T>& H,
                    RowMatrix<T>& f) const {
    const index_t J = J_, K = K_;
    parallel_blocks(ctx, X.rows(), detail::block_rows(X.rows(), 0, X.cols() * J + J * K),
                    [&](index_t, index_t s, index_t e) {
      hidden_rows(X.data(), X.cols(), s, e, W1_.middleCols(t * J, J), b1_.segment(t * J, J),
                  H.middleRows(s, e - s));
      for (index_t i = s; i < e; ++i) unit_outputs(&H(i, 0), t, &f(i, 0));
      (void)K;
    });
  }

  /// The training set as byte codes (Params::int8_tiles): the codes, their scale, their tiles,
  /// and each step's weight tiles, with room set aside before the loop.
  struct CodedSteps {
    std::vector<std::uint8_t> codes;
    double code_scale = 1;
    detail::QuadCodes tiles;
    std::vector<std::int8_t> weight_tiles;
    std::vector<T> unit_weights;
    std::vector<double> scales;
    void prepare(index_t n, index_t d, index_t J, const Context& ctx) {
      tiles.assign(codes.data(), nullptr, n, d, ctx);
      weight_tiles.assign(static_cast<std::size_t>(J * tiles.column_tiles() * 1024), 0);
      unit_weights.resize(static_cast<std::size_t>(d));
      scales.resize(static_cast<std::size_t>(J));
    }
  };

  /// step_outputs from the training set's byte codes: the pre-activations from the tiles'
  /// forward products, the rest as step_outputs.
  void coded_step_outputs(CodedSteps& cs, index_t t, const Context& ctx, RowMatrix<T>& H,
                          RowMatrix<T>& f) const {
    const index_t J = J_, d = d_, n = H.rows();
    const index_t tile_bytes = cs.tiles.column_tiles() * 1024;
    for (index_t j = 0; j < J; ++j) {
      for (index_t c = 0; c < d; ++c) cs.unit_weights[static_cast<std::size_t>(c)] = W1_(c, t * J + j);
      cs.scales[static_cast<std::size_t>(j)] =
          detail::tile_weights(cs.unit_weights.data(), d, cs.weight_tiles.data() + j * tile_bytes) *
          cs.code_scale;
    }
    parallel_for(ctx, cs.tiles.padded_rows() / detail::kSuperRows, [&](std::int64_t sb) {
      const index_t q0 = sb * detail::kSuperRows, m = std::min(detail::kSuperRows, n - q0);
      alignas(64) T z[detail::kSuperRows];
      for (index_t j = 0; j < J; ++j) {
        detail::tile_forward(cs.tiles, q0, cs.weight_tiles.data() + j * tile_bytes,
                             cs.scales[static_cast<std::size_t>(j)], z);
        for (index_t r = 0; r < m; ++r) H(q0 + r, j) = sigmoid(static_cast<T>(z[r] + b1_[t * J + j]));
      }
      for (index_t i = q0; i < q0 + m; ++i) unit_outputs(&H(i, 0), t, &f(i, 0));
    });
  }

  /// out[k] = b2_t[k] + Σ_j h[j]·W2_t[j, k], summed in unit order (the same arithmetic in
  /// training and in every prediction path).
  void unit_outputs(const T* h, index_t t, T* out) const {
    for (index_t k = 0; k < K_; ++k) {
      T acc = b2_(t, k);
      for (index_t j = 0; j < J_; ++j) acc += h[j] * W2_(t * J_ + j, k);
      out[k] = acc;
    }
  }

  void newton_step(index_t t, const RowMatrix<T>& f, const RowMatrix<T>& R,
                   const detail::Targets<T>& tg, const Params& p, const Context& ctx,
                   RowMatrix<T>& part) {
    const index_t n = f.rows(), K = K_;
    if (tg.loss == Loss::squared && !p.line_search) {
      rho_(t, 0) = static_cast<T>(p.eta);
      return;
    }
    parallel_blocks(ctx, n, newton_block(n), [&](index_t b, index_t s, index_t e) {
      for (index_t k = 0; k < 2 * K; ++k) part(b, k) = 0;
      for (index_t i = s; i < e; ++i) {
        for (index_t k = 0; k < K; ++k) {
          const T fi = f(i, k), r = R(i, k);
          T curv;
          if (tg.loss == Loss::squared) {
            curv = T(1);
          } else if (tg.loss == Loss::binary) {
            curv = r * (T(2) * tg.y[i] - r);  // = |r|(2 − |r|)
          } else {
            const T pk = tg.Y(i, k) - r;
            curv = pk * (T(1) - pk);
          }
          part(b, 2 * k) += r * fi;
          part(b, 2 * k + 1) += curv * fi * fi;
        }
      }
    });
    const index_t nb = num_blocks(n, newton_block(n));
    std::vector<double> num(static_cast<std::size_t>(K), 0.0), den(static_cast<std::size_t>(K), 0.0);
    for (index_t b = 0; b < nb; ++b)
      for (index_t k = 0; k < K; ++k) {
        num[static_cast<std::size_t>(k)] += static_cast<double>(part(b, 2 * k));
        den[static_cast<std::size_t>(k)] += static_cast<double>(part(b, 2 * k + 1));
      }
    auto guarded = [](double a, double c) {
      // A zero (or non-finite) curvature leaves nothing to step along: ρ* = 0.
      const double q = a / c;
      return (c > 0 && std::isfinite(q)) ? q : 0.0;
    };
    if (tg.loss == Loss::multiclass && !p.per_class_step) {
      double a = 0, c = 0;
      for (index_t k = 0; k < K; ++k) {
        a += num[static_cast<std::size_t>(k)];
        c += den[static_cast<std::size_t>(k)];
      }
      const T r = static_cast<T>(p.eta * guarded(a, c));
      for (index_t k = 0; k < K; ++k) rho_(t, k) = r;
    } else {
      for (index_t k = 0; k < K; ++k)
        rho_(t, k) = static_cast<T>(
            p.eta * guarded(num[static_cast<std::size_t>(k)], den[static_cast<std::size_t>(k)]));
    }
  }

  index_t newton_block(index_t n) const { return detail::block_rows(n, 2 * K_, 4 * K_); }

  void add_step(RowMatrix<T>& F, const RowMatrix<T>& f, index_t t, const Context& ctx) const {
    parallel_blocks(ctx, F.rows(), detail::block_rows(F.rows(), 0, 2 * K_),
                    [&](index_t, index_t s, index_t e) {
      for (index_t i = s; i < e; ++i)
        for (index_t k = 0; k < K_; ++k) F(i, k) += rho_(t, k) * f(i, k);
    });
  }

  // ---- prediction ----------------------------------------------------------------------------
  index_t check_predict(ConstMatrixView<T> X, int n_steps) const {
    require(fitted(), "model", "unfitted", "train or load a model first");
    require(X.cols == d_, "X.cols", X.cols,
            "must equal the model's number of features (" + std::to_string(d_) + ")");
    require(X.rows > 0, "X.rows", X.rows, "must be > 0");
    require(n_steps >= -1 && n_steps <= steps_ && n_steps != 0, "n_steps", n_steps,
            "must lie in [1, n_steps()] (-1 = all)");
    detail::check_finite(X, "X");
    return n_steps < 0 ? steps_ : n_steps;
  }

  /// F over the first S steps; with `staged`, F after each step too.
  void accumulate(ConstMatrixView<T> X, index_t S, const Context& ctx, RowMatrix<T>& F,
                  std::vector<RowMatrix<T>>* staged) const {
    detail::EigenSingleThread single;
    const index_t J = J_, K = K_;
    parallel_blocks(ctx, X.rows, detail::block_rows(X.rows, 0, S * (X.cols * J + J * K)),
                    [&](index_t, index_t s, index_t e) {
      RowMatrix<T> Xb, Hb(e - s, J);
      detail::gather_rows(X, s, e, Xb);
      std::vector<T> out(static_cast<std::size_t>(K));
      for (index_t i = s; i < e; ++i) F.row(i) = f0_.transpose();
      for (index_t t = 0; t < S; ++t) {
        hidden_rows(Xb.data(), Xb.cols(), 0, e - s, W1_.middleCols(t * J, J),
                    b1_.segment(t * J, J), Hb);
        for (index_t i = s; i < e; ++i) {
          unit_outputs(&Hb(i - s, 0), t, out.data());
          for (index_t k = 0; k < K; ++k) F(i, k) += rho_(t, k) * out[static_cast<std::size_t>(k)];
          if (staged != nullptr) (*staged)[static_cast<std::size_t>(t)].row(i) = F.row(i);
        }
      }
    });
  }

  RowMatrix<T> to_proba(const RowMatrix<T>& F) const {
    if (loss_ == Loss::squared) return F;
    Network<T> link_only;
    link_only.output = loss_ == Loss::binary ? Output::logistic : Output::softmax;
    if (loss_ == Loss::binary) return link_only.link(T(2) * F);
    return link_only.link(F);
  }

  Vector<T> to_label(const RowMatrix<T>& F) const {
    Vector<T> out(F.rows());
    for (index_t i = 0; i < F.rows(); ++i) {
      if (loss_ == Loss::squared) {
        out[i] = F(i, 0);
      } else if (loss_ == Loss::binary) {
        out[i] = F(i, 0) > 0 ? T(1) : T(0);
      } else {
        index_t c = 0;
        F.row(i).maxCoeff(&c);
        out[i] = static_cast<T>(c);
      }
    }
    return out;
  }

  double score_of(const RowMatrix<T>& F, ConstVectorView<T> y) const {
    const Vector<T> pred = to_label(F);
    double acc = 0;
    for (index_t i = 0; i < pred.size(); ++i) {
      if (loss_ == Loss::squared) {
        const double r = static_cast<double>(pred[i]) - static_cast<double>(y[i]);
        acc += r * r;
      } else {
        acc += pred[i] == y[i] ? 1.0 : 0.0;
      }
    }
    return acc / static_cast<double>(pred.size());
  }

  Loss loss_ = Loss::squared;
  int n_classes_ = 0;
  index_t d_ = 0, K_ = 1, J_ = 1, steps_ = 0;
  Vector<T> f0_;
  RowMatrix<T> W1_, W2_, b2_, rho_;
  Vector<T> b1_;
  std::vector<double> train_losses_, valid_losses_;
  std::vector<long> evaluations_;
};

}  // namespace orchard::gbnn
