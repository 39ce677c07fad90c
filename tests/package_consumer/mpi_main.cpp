// Links lanes::mpi from an installed package. With an argument it starts the MPI job as
// a real program would; without one (the package test) it only proves the link.
#include <lanes/mpi.hpp>

int square(int x) { return x * x; }
LANES_REGISTER(square);

int main(int argc, char** argv) {
  if (argc < 2) return 0;
  lanes::mpi_init(argc, argv);
  lanes::MPIPoolExecutor pool;
  return pool.submit(square, 7).result() == 49 ? 0 : 1;
}
