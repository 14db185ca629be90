// `sdzero version`: the code version and the libraries it was built against.
#include <H5public.h>
#include <torch/torch.h>

#include <boost/version.hpp>
#include <iostream>

#include "sdzero/app/command.hpp"
#include "sdzero/core/blas_core.hpp"
#include "sdzero/dist/world.hpp"
#include "sdzero/version_gen.hpp"

namespace sdz::app {

static int version(const std::vector<std::string>&) {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  std::cout << "sdzero " << SDZ_VERSION << " (" << SDZ_GIT_DESCRIBE << ")\n"
            << "libtorch " << TORCH_VERSION << (torch::cuda::is_available() ? " (CUDA available)" : " (CPU)") << "\n"
            << "MPI " << World::library_version() << "\n"
            << "HDF5 " << maj << "." << min << "." << rel << "\n"
            << "Boost " << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "." << BOOST_VERSION % 100 << "\n";
  if (const std::string blas = blas_core_report(); !blas.empty()) std::cout << "BLAS: " << blas << "\n";
#ifdef SDZ_WITH_NCCL
  std::cout << "NCCL enabled\n";
#endif
  return 0;
}

SDZ_COMMAND("version", "print the code version and library versions", "usage: sdzero version", version);

}  // namespace sdz::app
