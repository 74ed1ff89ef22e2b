// Time per tree node of the histogram exchange of data-parallel GBDT, three ways, at a given
// histogram size (features x bins x 3 doubles: gradient, hessian, count):
//   ordered    Communicator::sum (MPI_Alltoallv reduce-scatter summed in rank order +
//              MPI_Allgatherv): every rank ends with the whole summed histogram (what Orchard uses)
//   allreduce  MPI_Allreduce(MPI_SUM) of the whole histogram
//   rs_split   reduce-scatter by feature (MPI_Reduce_scatter) + MPI_Allgather of one 64-byte best
//              split per rank: each rank searches splits only on its features (LightGBM's
//              data-parallel design); the split search itself is not timed here
// Built and run by bench/compare/gbdt_mpi.sh:
//   mpirun -np P gbdt_mpi_collectives <features> <bins> <nodes>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <orchard/gbdt/distributed_comm.hpp>
#include <vector>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  const int features = argc > 1 ? std::atoi(argv[1]) : 28;
  const int bins = argc > 2 ? std::atoi(argv[2]) : 257;
  const int nodes = argc > 3 ? std::atoi(argv[3]) : 2000;
  orchard::gbdt::Communicator comm(MPI_COMM_WORLD);
  const int P = comm.size();
  const std::size_t n = static_cast<std::size_t>(features) * bins * 3;
  std::vector<double> h(n), out(n);
  std::vector<int> counts(static_cast<std::size_t>(P));
  for (int r = 0; r < P; ++r) {  // whole features per rank
    const int f0 = features * r / P, f1 = features * (r + 1) / P;
    counts[static_cast<std::size_t>(r)] = (f1 - f0) * bins * 3;
  }
  auto fill = [&] {
    for (std::size_t k = 0; k < n; ++k) h[k] = static_cast<double>((k * 7 + static_cast<std::size_t>(comm.rank())) % 101);
  };
  auto time = [&](auto&& step) {
    fill();
    step();  // warm-up
    MPI_Barrier(MPI_COMM_WORLD);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < nodes; ++i) {
      fill();
      step();
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return s / nodes;
  };
  const double t_fill = time([] {});
  const double t_ordered = time([&] { comm.sum(h.data(), n); });
  const double t_allreduce = time([&] {
    MPI_Allreduce(MPI_IN_PLACE, h.data(), static_cast<int>(n), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  });
  double split[8] = {0}, splits[8 * 64];
  const double t_rs = time([&] {
    MPI_Reduce_scatter(h.data(), out.data(), counts.data(), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    split[0] = out[0];
    MPI_Allgather(split, 8, MPI_DOUBLE, splits, 8, MPI_DOUBLE, MPI_COMM_WORLD);
  });
  if (comm.rank() == 0) {
    const double kb = static_cast<double>(n) * 8 / 1024;
    const double q = P > 1 ? static_cast<double>(P - 1) / P : 0.0;
    std::printf("ranks %d  histogram %d features x %d bins = %.1f KiB\n", P, features, bins, kb);
    std::printf("%-10s %12s %18s\n", "exchange", "us/node", "KiB sent/rank/node");
    std::printf("%-10s %12.1f %18.1f\n", "ordered", 1e6 * (t_ordered - t_fill), 2 * q * kb);
    std::printf("%-10s %12.1f %18.1f\n", "allreduce", 1e6 * (t_allreduce - t_fill), 2 * q * kb);
    std::printf("%-10s %12.1f %18.1f\n", "rs_split", 1e6 * (t_rs - t_fill), q * kb + (P - 1) * 64.0 / 1024);
  }
  MPI_Finalize();
  return 0;
}
