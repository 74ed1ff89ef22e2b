// Distributed GBDT training, run under `mpirun -np 2` and `-np 4` (suite mpi). Every rank runs
// every case in the same order (doctest's file order), so the collectives match; checks use CHECK,
// never REQUIRE, so a failing rank keeps going with the others. The reference in each case is
// single-process gbdt::train on the concatenated shards, computed on every rank.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <unistd.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <orchard/core/io/csv.hpp>
#include <orchard/gbdt.hpp>
#include <orchard/gbdt/distributed.hpp>  // includes <mpi.h> without the C++ bindings
#include <string>
#include <vector>

#include "../gbdt/synth.hpp"
#include "orchard_test.hpp"

using namespace orchard;
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

struct Shard {
  RowMat X;
  Eigen::VectorXd y;
};

// This rank's rows when rank r holds counts[r] consecutive rows.
Shard shard(const RowMat& X, const Eigen::VectorXd& y, const std::vector<Eigen::Index>& counts, int rank) {
  Eigen::Index begin = 0;
  for (int r = 0; r < rank; ++r) begin += counts[static_cast<std::size_t>(r)];
  const Eigen::Index m = counts[static_cast<std::size_t>(rank)];
  return {X.middleRows(begin, m), y.segment(begin, m)};
}

std::vector<Eigen::Index> even(Eigen::Index n, int P) {
  std::vector<Eigen::Index> c;
  for (int r = 0; r < P; ++r) c.push_back(gbdt::shard_range(n, r, P).size());
  return c;
}

// Same trees (structure and bins exactly, values to a relative tolerance) and base score.
void check_same_model(const gbdt::Model& a, const gbdt::Model& b, double tol) {
  CHECK(a.trees.size() == b.trees.size());
  CHECK(a.num_class == b.num_class);
  CHECK(a.best_round == b.best_round);
  if (a.trees.size() != b.trees.size() || a.base_score.size() != b.base_score.size()) return;
  bool structure = true;
  double worst = 0;
  for (std::size_t k = 0; k < a.base_score.size(); ++k) {
    worst = std::max(worst, std::abs(a.base_score[k] - b.base_score[k]) / (1 + std::abs(a.base_score[k])));
  }
  for (std::size_t t = 0; t < a.trees.size(); ++t) {
    const auto& p = a.trees[t];
    const auto& q = b.trees[t];
    structure = structure && p.feature == q.feature && p.bin == q.bin && p.left == q.left &&
                p.right == q.right && p.flags == q.flags && p.value.size() == q.value.size();
    if (!structure) break;
    for (std::size_t i = 0; i < p.value.size(); ++i) {
      worst = std::max(worst, std::abs(p.value[i] - q.value[i]) / (1e-3 + std::abs(p.value[i])));
    }
    for (std::size_t i = 0; i < p.threshold.size(); ++i) CHECK(p.threshold[i] == q.threshold[i]);
  }
  CHECK(structure);
  CHECK(worst <= tol);
}

gbdt::Params small_params(const std::string& objective) {
  gbdt::Params p;
  p.objective = objective;
  p.num_rounds = 12;
  p.max_depth = 4;
  p.learning_rate = 0.3;
  p.threads = 1;
  p.max_bin = 32;
  p.seed = 7;
  return p;
}

struct Mpi {
  gbdt::Communicator comm{MPI_COMM_WORLD};
  int rank() const { return comm.rank(); }
  int size() const { return comm.size(); }
};

}  // namespace

TEST_CASE("communicator: ordered sum is exact rank-order addition on every rank") {
  Mpi w;
  for (std::size_t n : {std::size_t{3}, std::size_t{1000}}) {
    std::vector<double> x(n);
    for (std::size_t k = 0; k < n; ++k) x[k] = 1.0 / static_cast<double>(k + 1 + 7 * static_cast<std::size_t>(w.rank()));
    std::vector<double> ref(n, 0.0);
    for (int r = 0; r < w.size(); ++r) {
      for (std::size_t k = 0; k < n; ++k) {
        const double v = 1.0 / static_cast<double>(k + 1 + 7 * static_cast<std::size_t>(r));
        ref[k] = r == 0 ? v : ref[k] + v;
      }
    }
    w.comm.reset_stats();
    w.comm.sum(x.data(), n);
    CHECK(x == ref);
    // Byte accounting: reduce-scatter + allgather moves 2 (P-1)/P of the array per rank.
    if (n == 1000 && w.size() > 1) {
      const auto P = static_cast<std::uint64_t>(w.size());
      CHECK(w.comm.bytes_sent() >= 2 * (P - 1) * n * 8 / P - 16 * P);
      CHECK(w.comm.bytes_sent() <= 2 * (P - 1) * n * 8 / P + 16 * P);
    }
  }
  const auto all = w.comm.gather(std::vector<int>(static_cast<std::size_t>(w.rank()), w.rank()), -1);
  std::vector<int> want;
  for (int r = 0; r < w.size(); ++r) want.insert(want.end(), static_cast<std::size_t>(r), r);
  CHECK(all == want);
}

TEST_CASE("distributed: equals single-process training (regression, binary, multiclass)") {
  Mpi w;
  const struct {
    const char* objective;
    int kind;
    const char* growth;
    double subsample, colsample;
  } cases[] = {{"regression", 0, "depthwise", 1.0, 1.0},
               {"binary", 1, "leafwise", 0.7, 0.8},
               {"multiclass", 2, "oblivious", 1.0, 0.7}};
  for (const auto& c : cases) {
    CAPTURE(c.objective);
    const auto d = gbdt_test::make(1200, 6, c.kind, 11);
    auto p = small_params(c.objective);
    p.growth = c.growth;
    p.subsample = c.subsample;
    p.colsample_bytree = c.colsample;
    const gbdt::Model ref = gbdt::train(p, d.X, d.y);
    const Shard s = shard(d.X, d.y, even(d.X.rows(), w.size()), w.rank());
    const gbdt::Model m = gbdt::train_distributed(w.comm, p, s.X, s.y);
    check_same_model(ref, m, 1e-9);
    const Eigen::MatrixXd a = ref.predict_raw(d.X), b = m.predict_raw(d.X);
    CHECK((a - b).cwiseAbs().maxCoeff() < 1e-9);
    // Same seed, same ranks: the same bits.
    const gbdt::Model again = gbdt::train_distributed(w.comm, p, s.X, s.y);
    CHECK(again.to_json().dump() == m.to_json().dump());
  }
}

TEST_CASE("distributed: uneven shards, a rank with no rows, a rank with one row") {
  Mpi w;
  const auto d = gbdt_test::make(900, 5, 1, 3);
  const Eigen::Index n = d.X.rows();
  auto p = small_params("binary");
  p.subsample = 0.5;  // the one-row rank is left out of some rounds' samples
  const gbdt::Model ref = gbdt::train(p, d.X, d.y);
  std::vector<std::vector<Eigen::Index>> layouts;
  {  // 1 : 2 : ... : P
    std::vector<Eigen::Index> c;
    const Eigen::Index unit = n / (w.size() * (w.size() + 1) / 2);
    for (int r = 0; r < w.size(); ++r) c.push_back(unit * (r + 1));
    c.back() += n - std::accumulate(c.begin(), c.end(), Eigen::Index{0});
    layouts.push_back(c);
  }
  for (Eigen::Index first : {0, 1}) {  // rank 0 holds no rows / one row, the rest even shares
    std::vector<Eigen::Index> c(static_cast<std::size_t>(w.size()), (n - first) / (w.size() - 1));
    c[0] = first;
    c.back() += n - std::accumulate(c.begin(), c.end(), Eigen::Index{0});
    layouts.push_back(c);
  }
  for (const auto& c : layouts) {
    const Shard s = shard(d.X, d.y, c, w.rank());
    const gbdt::Model m = gbdt::train_distributed(w.comm, p, s.X, s.y);
    check_same_model(ref, m, 1e-9);
  }
}

TEST_CASE("distributed: validation metrics and early stopping agree with one process") {
  Mpi w;
  const auto d = gbdt_test::make(1000, 5, 1, 5);
  const auto v = gbdt_test::make(400, 5, 1, 6);
  for (const char* metric : {"auc", "logloss"}) {
    CAPTURE(metric);
    auto p = small_params("binary");
    p.num_rounds = 60;
    p.learning_rate = 0.5;
    p.early_stopping_rounds = 4;
    p.eval_metric = metric;
    const gbdt::Model ref = gbdt::train(p, d.X, d.y, v.X, v.y);
    const Shard s = shard(d.X, d.y, even(d.X.rows(), w.size()), w.rank());
    // Validation rows all on the last rank: the others hold none.
    std::vector<Eigen::Index> vc(static_cast<std::size_t>(w.size()), 0);
    vc.back() = v.X.rows();
    const Shard sv = shard(v.X, v.y, vc, w.rank());
    const gbdt::Model m = gbdt::train_distributed(w.comm, p, s.X, s.y, sv.X, sv.y);
    CHECK(ref.best_round > 0);
    CHECK(ref.best_round < p.num_rounds);
    check_same_model(ref, m, 1e-9);
    CHECK(m.valid_history.size() == ref.valid_history.size());
    for (std::size_t i = 0; i < std::min(m.valid_history.size(), ref.valid_history.size()); ++i) {
      CHECK(m.valid_history[i] == doctest::Approx(ref.valid_history[i]).epsilon(1e-12));
    }
  }
}

TEST_CASE("distributed: the progress callback stops every rank") {
  Mpi w;
  const auto d = gbdt_test::make(300, 4, 0, 9);
  const Shard s = shard(d.X, d.y, even(d.X.rows(), w.size()), w.rank());
  auto p = small_params("regression");
  int calls = 0;
  const gbdt::Model m = gbdt::train_distributed(w.comm, p, s.X, s.y, {}, {}, [&](const gbdt::Progress& g) {
    ++calls;
    return !(w.rank() == w.size() - 1 && g.round == 3);  // only the last rank asks to stop
  });
  CHECK(calls == 3);
  CHECK(m.num_rounds() == 3);
}

TEST_CASE("distributed: bad input on one rank throws the same error on every rank") {
  Mpi w;
  const auto d = gbdt_test::make(400, 5, 1, 8);
  const Shard s = shard(d.X, d.y, even(d.X.rows(), w.size()), w.rank());
  const auto p = small_params("binary");
  const int bad = w.size() - 1;
  auto expect = [&](auto&& fn, const std::string& needle) {
    std::string what;
    bool invalid = false;
    try {
      fn();
    } catch (const InvalidArgument& e) {
      invalid = true;
      what = e.what();
    } catch (const std::exception& e) {
      what = e.what();
    }
    CAPTURE(what);
    CHECK(invalid);
    CHECK(what.find(needle) != std::string::npos);
    // Every rank got the very same message.
    const auto all = w.comm.gather(std::vector<char>(what.begin(), what.end()), -1);
    CHECK(all.size() == what.size() * static_cast<std::size_t>(w.size()));
  };
  {  // a label that is not 0/1 on the last rank
    Shard b = s;
    b.y[2] = 0.5;
    const bool mine = w.rank() == bad;
    expect([&] { gbdt::train_distributed(w.comm, p, mine ? b.X : s.X, mine ? b.y : s.y); },
           "rank " + std::to_string(bad) + " of " + std::to_string(w.size()) +
               ": orchard: argument 'y[2]' = 0.5");
  }
  {  // one feature fewer on the last rank
    const RowMat fewer = s.X.leftCols(4);
    expect([&] { gbdt::train_distributed(w.comm, p, w.rank() == bad ? fewer : s.X, s.y); },
           "X.cols on rank " + std::to_string(bad));
  }
  {  // no rows anywhere
    const RowMat none(0, 5);
    const Eigen::VectorXd ny(0);
    expect([&] { gbdt::train_distributed(w.comm, p, none, ny); }, "X.rows (all ranks)");
  }
  {  // bad parameters are caught everywhere alike
    auto q = p;
    q.max_bin = 1;
    expect([&] { gbdt::train_distributed(w.comm, q, s.X, s.y); }, "rank 0 of");
  }
}

TEST_CASE("read_shard: row ranges of one file, one file per rank, parse errors everywhere") {
  Mpi w;
  namespace fs = std::filesystem;
  const auto pid = w.comm.allgather<std::int64_t>(static_cast<std::int64_t>(::getpid()))[0];
  const fs::path dir = fs::temp_directory_path() / ("orchard_mpi_test_" + std::to_string(pid));
  const int n = 23;
  if (w.rank() == 0) {
    fs::create_directories(dir);
    std::ofstream all(dir / "all.tsv");
    for (int i = 0; i < n; ++i) all << (i % 2) << "\t" << i << "\t" << 0.5 * i << "\n";
    for (int r = 0; r < w.size(); ++r) {
      std::ofstream part(dir / ("part-" + std::to_string(r) + ".tsv"));
      part << "1\t" << r << "\t2\n0\t" << r << "\t3\n";
      if (r == 1) part << "1\tx\t4\n";  // rank 1's file is bad at line 3, column 3
      std::ofstream wide(dir / ("wide-" + std::to_string(r) + ".tsv"));
      wide << "1\t1\t2" << (r == 1 ? "\t5" : "") << "\n";  // rank 1: one feature more
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  io::CsvOptions o;
  o.label_column = 0;
  auto reader = [&](const std::string& f) { return io::read_tsv<double>(f, o); };
  gbdt::Communicator& comm = w.comm;
  const auto ds = gbdt::read_shard<double>(comm, (dir / "all.tsv").string(), reader);
  const auto s = gbdt::shard_range(n, w.rank(), w.size());
  CHECK(ds.X.rows() == s.size());
  CHECK(ds.X.cols() == 2);
  bool rows_ok = ds.y.size() == s.size();
  for (Eigen::Index i = 0; i < ds.X.rows(); ++i) rows_ok = rows_ok && ds.X(i, 0) == static_cast<double>(s.begin + i);
  CHECK(rows_ok);
  int line = -1, column = -1;
  std::string what;
  try {
    gbdt::read_shard<double>(comm, (dir / "part-{rank}.tsv").string(), reader);
  } catch (const ParseError& e) {
    line = static_cast<int>(e.line());
    column = static_cast<int>(e.column());
    what = e.what();
  }
  CAPTURE(what);
  CHECK(line == 3);
  CHECK(column == 3);
  CHECK(what.find("part-1.tsv") != std::string::npos);
  CHECK(what.find("rank 1 of") != std::string::npos);
  std::string wide_what;
  try {
    gbdt::read_shard<double>(comm, (dir / "wide-{rank}.tsv").string(), reader);
  } catch (const InvalidArgument& e) {
    wide_what = e.what();
  }
  CAPTURE(wide_what);
  CHECK(wide_what.find("on rank 1' = 3 features: must equal rank 0's 2") != std::string::npos);
  MPI_Barrier(MPI_COMM_WORLD);
  if (w.rank() == 0) fs::remove_all(dir);
}

TEST_CASE("realdata: lightgbm binary.train sharded equals one process") {
  Mpi w;
  const auto path = orchard_test::data("lightgbm/binary.train");
  // Every rank sees the same file system, so every rank skips alike.
  if (!orchard_test::have_data(path)) return;
  io::CsvOptions o;
  o.label_column = 0;
  const auto full = io::read_tsv<double>(path.string(), o);
  const auto ds = gbdt::read_shard<double>(w.comm, path.string(),
                                           [&](const std::string& f) { return io::read_tsv<double>(f, o); });
  for (const char* growth : {"depthwise", "leafwise"}) {
    CAPTURE(growth);
    gbdt::Params p;
    p.objective = "binary";
    p.growth = growth;
    p.num_rounds = 25;
    p.threads = 1;
    const gbdt::Model ref = gbdt::train(p, full.X, full.y);
    const gbdt::Model m = gbdt::train_distributed(w.comm, p, ds.X, ds.y);
    check_same_model(ref, m, 1e-9);
    const Eigen::MatrixXd a = ref.predict_raw(full.X), b = m.predict_raw(full.X);
    CHECK((a - b).cwiseAbs().maxCoeff() < 1e-9);
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  doctest::Context context(argc, argv);
  if (rank != 0) context.setOption("no-version", true);
  const int rc = context.run();
  int worst = 0;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
