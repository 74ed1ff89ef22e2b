#pragma once
// The MPI communicator of distributed training: a thin wrapper around an MPI_Comm (passed in by
// the caller; nothing global) with the few collectives data-parallel boosting needs, each one
// deterministic, plus byte accounting and the failure agreement that turns an exception on one
// rank into the same exception on every rank instead of a hang.
//
// Needs <mpi.h> (Open MPI: Debian libopenmpi-dev); compile with mpicxx or Meson's
// dependency('mpi', language: 'cpp'). MPI must be initialised (MPI_Init) by the program.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1  // the C API only: Open MPI's deprecated C++ bindings warn under -Wextra
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"

namespace orchard::gbdt {

/// How Communicator::sum adds the ranks' arrays.
enum class Reduction {
  ordered,    ///< reduce-scatter (MPI_Alltoallv) summed in rank order, then MPI_Allgatherv
  allreduce,  ///< MPI_Allreduce(MPI_SUM): Open MPI's own algorithm, order not fixed by MPI
};

namespace detail {
template <class T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  else if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  else if constexpr (std::is_same_v<T, int>) return MPI_INT;
  else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
  else if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
  else static_assert(sizeof(T) == 0, "no MPI type for T");
}
}  // namespace detail

class Communicator {
 public:
  /// Wraps `comm` (not owned; MPI must be initialised). Throws StateError when it is not.
  explicit Communicator(MPI_Comm comm, Reduction reduction = Reduction::ordered)
      : comm_(comm), reduction_(reduction) {
    int init = 0;
    MPI_Initialized(&init);
    if (!init) throw StateError("orchard: Communicator needs MPI_Init to have been called");
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm comm() const { return comm_; }
  Reduction reduction() const { return reduction_; }
  void set_reduction(Reduction r) { reduction_ = r; }

  /// Payload bytes this rank has sent since the last reset (as if every collective were direct
  /// point-to-point exchanges: MPI's internal algorithms may move more or less).
  std::uint64_t bytes_sent() const { return bytes_; }
  /// Collective calls made since the last reset.
  std::uint64_t calls() const { return calls_; }
  void reset_stats() {
    bytes_ = 0;
    calls_ = 0;
  }

  /// Element-wise sum of every rank's x[0..n) into x, identical bits on every rank. Ordered mode:
  /// rank s owns segment s and adds the ranks' pieces in rank order 0, 1, ..., so the result
  /// depends only on the inputs and the rank count; small arrays are gathered whole instead.
  void sum(double* x, std::size_t n) {
    if (size_ == 1 || n == 0) return;
    ++calls_;
    const auto P = static_cast<std::size_t>(size_);
    if (reduction_ == Reduction::allreduce) {
      bytes_ += 2 * (P - 1) * n * sizeof(double) / P;
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, x, count(n), MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
      return;
    }
    if (n < 64 * P) {  // small: everyone gets everything and adds in rank order
      buf_.resize(n * P);
      bytes_ += (P - 1) * n * sizeof(double);
      check_mpi(MPI_Allgather(x, count(n), MPI_DOUBLE, buf_.data(), count(n), MPI_DOUBLE, comm_),
                "MPI_Allgather");
      std::copy(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n), x);
      for (std::size_t r = 1; r < P; ++r) {
        const double* p = buf_.data() + r * n;
        for (std::size_t k = 0; k < n; ++k) x[k] += p[k];
      }
      return;
    }
    counts_.resize(P);
    displs_.resize(P);
    for (std::size_t r = 0; r < P; ++r) {
      const std::size_t lo = n * r / P, hi = n * (r + 1) / P;
      counts_[r] = count(hi - lo);
      displs_[r] = count(lo);
    }
    const auto me = static_cast<std::size_t>(rank_);
    const std::size_t mine = static_cast<std::size_t>(counts_[me]);
    rcounts_.assign(P, count(mine));
    rdispls_.resize(P);
    for (std::size_t r = 0; r < P; ++r) rdispls_[r] = count(r * mine);
    buf_.resize(mine * P);
    bytes_ += (n - mine) * sizeof(double);
    check_mpi(MPI_Alltoallv(x, counts_.data(), displs_.data(), MPI_DOUBLE, buf_.data(),
                            rcounts_.data(), rdispls_.data(), MPI_DOUBLE, comm_),
              "MPI_Alltoallv");
    double* seg = x + displs_[me];
    std::copy(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(mine), seg);
    for (std::size_t r = 1; r < P; ++r) {
      const double* p = buf_.data() + r * mine;
      for (std::size_t k = 0; k < mine; ++k) seg[k] += p[k];
    }
    bytes_ += (P - 1) * mine * sizeof(double);
    check_mpi(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DOUBLE, x, counts_.data(), displs_.data(),
                             MPI_DOUBLE, comm_),
              "MPI_Allgatherv");
  }

  /// One value from every rank, in rank order.
  template <class T>
  std::vector<T> allgather(T value) {
    std::vector<T> out(static_cast<std::size_t>(size_));
    ++calls_;
    bytes_ += static_cast<std::uint64_t>(size_ - 1) * sizeof(T);
    check_mpi(MPI_Allgather(&value, 1, detail::mpi_type<T>(), out.data(), 1, detail::mpi_type<T>(),
                            comm_),
              "MPI_Allgather");
    return out;
  }

  /// Every rank's `local` concatenated in rank order, delivered to `root` only (empty elsewhere),
  /// or to every rank when root < 0.
  template <class T>
  std::vector<T> gather(const std::vector<T>& local, int root) {
    const auto counts = allgather<std::int64_t>(static_cast<std::int64_t>(local.size()));
    std::vector<int> c(counts.size()), d(counts.size());
    std::int64_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      d[r] = count(static_cast<std::size_t>(total));
      c[r] = count(static_cast<std::size_t>(counts[r]));
      total += counts[r];
    }
    count(static_cast<std::size_t>(total));
    std::vector<T> out;
    ++calls_;
    const auto T_ = detail::mpi_type<T>();
    if (root < 0) {
      out.resize(static_cast<std::size_t>(total));
      bytes_ += static_cast<std::uint64_t>(size_ - 1) * local.size() * sizeof(T);
      check_mpi(MPI_Allgatherv(local.data(), count(local.size()), T_, out.data(), c.data(), d.data(),
                               T_, comm_),
                "MPI_Allgatherv");
    } else {
      if (rank_ == root) out.resize(static_cast<std::size_t>(total));
      if (rank_ != root) bytes_ += local.size() * sizeof(T);
      check_mpi(MPI_Gatherv(local.data(), count(local.size()), T_, out.data(), c.data(), d.data(), T_,
                            root, comm_),
                "MPI_Gatherv");
    }
    return out;
  }

  /// Sends root's `v` (any length) to every rank.
  template <class T>
  void broadcast(std::vector<T>& v, int root) {
    std::int64_t n = static_cast<std::int64_t>(v.size());
    ++calls_;
    if (rank_ == root) bytes_ += static_cast<std::uint64_t>(size_ - 1) * (sizeof(n) + v.size() * sizeof(T));
    check_mpi(MPI_Bcast(&n, 1, MPI_INT64_T, root, comm_), "MPI_Bcast");
    v.resize(static_cast<std::size_t>(n));
    check_mpi(MPI_Bcast(v.data(), count(v.size()), detail::mpi_type<T>(), root, comm_), "MPI_Bcast");
  }

  /// True on every rank when `flag` is true on any rank.
  bool any(bool flag) {
    int in = flag ? 1 : 0, out = 0;
    ++calls_;
    bytes_ += 2 * sizeof(int) * static_cast<std::uint64_t>(size_ - 1) / static_cast<std::uint64_t>(size_);
    check_mpi(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, comm_), "MPI_Allreduce");
    return out != 0;
  }

  /// Runs fn() on every rank. When it throws on any rank, every rank throws the same exception:
  /// the one of the lowest failing rank, of the same orchard::Error class, its message prefixed
  /// with "rank r of P: ". Collective: every rank must call it.
  template <class F>
  void agree(F&& fn) {
    Failure f;
    try {
      fn();
    } catch (const ParseError& e) {
      f = fail(kParse, e.what());
      f.source = e.source();
      f.line = e.line();
      f.column = e.column();
    } catch (const InvalidArgument& e) {
      f = fail(kInvalid, e.what());
    } catch (const IoError& e) {
      f = fail(kIo, e.what());
    } catch (const FormatError& e) {
      f = fail(kFormat, e.what());
    } catch (const StateError& e) {
      f = fail(kState, e.what());
    } catch (const DeviceError& e) {
      f = fail(kDevice, e.what());
    } catch (const std::exception& e) {
      f = fail(kOther, e.what());
    } catch (...) {
      f = fail(kOther, "unknown exception");
    }
    settle(f);
  }

 private:
  enum Kind : int { kNone = 0, kInvalid, kParse, kIo, kFormat, kState, kDevice, kOther };
  struct Failure {
    int kind = kNone;
    std::string what;
    std::string source;
    std::int64_t line = 0, column = 0;
  };
  static Failure fail(int kind, const char* what) {
    Failure f;
    f.kind = kind;
    f.what = what;
    return f;
  }

  // Agrees on the lowest failing rank, sends its failure to all and throws it everywhere.
  void settle(Failure f) {
    int mine = f.kind != kNone ? rank_ : size_, first = size_;
    ++calls_;
    check_mpi(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm_), "MPI_Allreduce");
    if (first == size_) return;
    std::vector<std::int64_t> head = {f.kind, f.line, f.column};
    std::vector<char> what(f.what.begin(), f.what.end()), source(f.source.begin(), f.source.end());
    broadcast(head, first);
    broadcast(what, first);
    broadcast(source, first);
    const std::string prefix = "rank " + std::to_string(first) + " of " + std::to_string(size_) + ": ";
    const std::string msg = prefix + std::string(what.begin(), what.end());
    switch (static_cast<int>(head[0])) {
      case kInvalid: throw InvalidArgument(msg);
      case kParse: {
        // Keep source, line and column; the text after the location gets the rank prefix.
        const std::string src(source.begin(), source.end());
        const std::string w(what.begin(), what.end());
        const std::string loc = ParseError(src, head[1], head[2], "").what();
        const std::string tail = w.compare(0, loc.size(), loc) == 0 ? w.substr(loc.size()) : w;
        throw ParseError(src, head[1], head[2], prefix + tail);
      }
      case kIo: throw IoError(msg);
      case kFormat: throw FormatError(msg);
      case kState: throw StateError(msg);
      case kDevice: throw DeviceError(msg);
      default: throw Error(msg);
    }
  }

  static int count(std::size_t n) {
    if (n > static_cast<std::size_t>(INT32_MAX)) {
      throw InvalidArgument("orchard: a distributed message of " + std::to_string(n) +
                            " elements exceeds MPI's int count limit");
    }
    return static_cast<int>(n);
  }
  static void check_mpi(int rc, const char* what) {
    if (rc != MPI_SUCCESS) throw Error(std::string("orchard: ") + what + " failed with code " + std::to_string(rc));
  }

  MPI_Comm comm_;
  Reduction reduction_;
  int rank_ = 0, size_ = 1;
  std::uint64_t bytes_ = 0, calls_ = 0;
  std::vector<double> buf_;
  std::vector<int> counts_, displs_, rcounts_, rdispls_;
};

}  // namespace orchard::gbdt
