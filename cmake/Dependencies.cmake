# Third-party dependencies on two INTERFACE targets: sdz_deps_base (everything but torch; the torch-free
# layers link only this, so their test programs start in milliseconds) and sdz_deps (base + torch).
add_library(sdz_deps_base INTERFACE)
add_library(sdz_deps INTERFACE)
target_link_libraries(sdz_deps INTERFACE sdz_deps_base)

# ---- libtorch. CPU builds use Debian's libtorch-dev (1.13). GPU builds use the pip PyTorch prefix:
#   cmake -B build-gpu -DSDZ_ENABLE_CUDA=ON -DSDZ_ENABLE_NCCL=ON \
#         -DCMAKE_PREFIX_PATH="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')"
if(SDZ_ENABLE_CUDA)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  if(NOT CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
    set(CUDAToolkit_ROOT /usr/local/cuda)
  endif()
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "sdzero: CUDA toolkit ${CUDAToolkit_VERSION} at ${CUDAToolkit_BIN_DIR}")
  if(NOT CMAKE_PREFIX_PATH)
    execute_process(COMMAND python3 -c "import torch; print(torch.utils.cmake_prefix_path)"
                    OUTPUT_VARIABLE _sdz_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE _sdz_torch_rc ERROR_QUIET)
    if(_sdz_torch_rc EQUAL 0 AND _sdz_torch_prefix)
      list(APPEND CMAKE_PREFIX_PATH ${_sdz_torch_prefix})
      message(STATUS "sdzero: using the pip PyTorch prefix ${_sdz_torch_prefix}")
    else()
      message(WARNING "sdzero: SDZ_ENABLE_CUDA=ON but no pip PyTorch found; "
                      "falling back to the system libtorch (compile check only: it has no CUDA)")
    endif()
  endif()
  target_compile_definitions(sdz_deps INTERFACE SDZ_WITH_CUDA=1)
  target_link_libraries(sdz_deps INTERFACE CUDA::cudart)
endif()
find_package(Torch REQUIRED)
target_link_libraries(sdz_deps INTERFACE ${TORCH_LIBRARIES})
# src/model/cpu_kernels.cpp is compiled with -fopenmp (CMakeLists.txt): its parallel regions call the
# GNU OpenMP runtime that torch already uses, which the link must then name.
find_package(OpenMP REQUIRED COMPONENTS CXX)
target_link_libraries(sdz_deps INTERFACE ${OpenMP_CXX_LIBRARIES})
target_include_directories(sdz_deps SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
message(STATUS "sdzero: Torch ${Torch_VERSION} from ${Torch_DIR}")

if(SDZ_ENABLE_NCCL)
  if(NOT SDZ_ENABLE_CUDA)
    message(FATAL_ERROR "SDZ_ENABLE_NCCL=ON needs SDZ_ENABLE_CUDA=ON")
  endif()
  # NCCL_HOME first: the pip wheel nvidia-nccl (site-packages/nvidia/nccl) that pip PyTorch loads has
  # only libnccl.so.2; a second, different libnccl next to it would fight over the same symbols.
  find_path(SDZ_NCCL_INCLUDE nccl.h HINTS $ENV{NCCL_HOME}/include ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  find_library(SDZ_NCCL_LIB NAMES nccl libnccl.so.2 HINTS $ENV{NCCL_HOME}/lib ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  if(NOT SDZ_NCCL_INCLUDE OR NOT SDZ_NCCL_LIB)
    message(FATAL_ERROR "SDZ_ENABLE_NCCL=ON but nccl.h / libnccl were not found (set NCCL_HOME)")
  endif()
  message(STATUS "sdzero: NCCL ${SDZ_NCCL_LIB}")
  target_include_directories(sdz_deps SYSTEM INTERFACE ${SDZ_NCCL_INCLUDE})
  target_link_libraries(sdz_deps INTERFACE ${SDZ_NCCL_LIB})
  target_compile_definitions(sdz_deps INTERFACE SDZ_WITH_NCCL=1)
endif()

# ---- MPI (C API; OpenMPI on Debian), HDF5 (C API), Boost.Program_options, JSON, PCRE2
find_package(MPI REQUIRED COMPONENTS C)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3.9 REQUIRED)
# PCRE2 through pkg-config where it exists, else by header and library name (GPU images without
# pkg-config; tools/device/check.sh passes SDZ_PCRE2_INCLUDE_DIR for carried headers).
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND AND NOT SDZ_PCRE2_INCLUDE_DIR)
  pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
else()
  find_path(SDZ_PCRE2_INCLUDE_DIR pcre2.h REQUIRED)
  find_library(SDZ_PCRE2_LIB NAMES pcre2-8 libpcre2-8.so.0 REQUIRED)
  add_library(PkgConfig::PCRE2 INTERFACE IMPORTED)
  target_include_directories(PkgConfig::PCRE2 SYSTEM INTERFACE ${SDZ_PCRE2_INCLUDE_DIR})
  target_link_libraries(PkgConfig::PCRE2 INTERFACE ${SDZ_PCRE2_LIB})
  message(STATUS "sdzero: PCRE2 ${SDZ_PCRE2_LIB} (headers ${SDZ_PCRE2_INCLUDE_DIR})")
endif()
find_package(Threads REQUIRED)

target_link_libraries(sdz_deps_base INTERFACE MPI::MPI_C Boost::program_options nlohmann_json::nlohmann_json
                                         PkgConfig::PCRE2 Threads::Threads ${HDF5_C_LIBRARIES}
                                         ${CMAKE_DL_LIBS})  # dlsym: core/blas_core.cpp
target_include_directories(sdz_deps_base SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS})
target_compile_definitions(sdz_deps_base INTERFACE ${HDF5_C_DEFINITIONS} OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)

# ---- oneDNN (optional, CPU builds): the weight matmuls of fp32 CPU tensors (src/model/cpu_matmul.cpp).
# It is the libdnnl that Debian's libtorch already links; GPU builds (pip PyTorch carries its own copy)
# leave it out and use torch::linear.
option(SDZ_ENABLE_ONEDNN "Run fp32 CPU weight matmuls on oneDNN (libdnnl-dev)" ON)
set(SDZ_ONEDNN_FOUND OFF)
if(SDZ_ENABLE_ONEDNN AND NOT SDZ_ENABLE_CUDA)
  find_path(SDZ_ONEDNN_INCLUDE oneapi/dnnl/dnnl.hpp)
  find_library(SDZ_ONEDNN_LIB NAMES dnnl)
  if(SDZ_ONEDNN_INCLUDE AND SDZ_ONEDNN_LIB)
    set(SDZ_ONEDNN_FOUND ON)
    target_link_libraries(sdz_deps INTERFACE ${SDZ_ONEDNN_LIB})
    message(STATUS "sdzero: oneDNN ${SDZ_ONEDNN_LIB} (CPU weight matmuls)")
  else()
    message(WARNING "sdzero: oneDNN not found (apt-get install libdnnl-dev); CPU matmuls stay on torch/OpenBLAS")
  endif()
endif()
