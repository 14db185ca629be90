# Compiler-side settings: ccache, the gold linker, warnings. All optional speed-ups degrade silently.
find_program(SDZ_CCACHE ccache)
if(SDZ_CCACHE)
  # Precompiled headers and ccache only cooperate with these sloppiness settings.
  set(_sdz_launcher ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime" ${SDZ_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${_sdz_launcher})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${_sdz_launcher})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${_sdz_launcher})
endif()

include(CheckCXXSourceCompiles)
include(CheckLinkerFlag)
check_linker_flag(CXX "-fuse-ld=gold" SDZ_HAVE_GOLD)
if(SDZ_HAVE_GOLD)
  add_link_options(-fuse-ld=gold)   # 0.2 s links instead of 1.2 s with bfd (DESIGN.md)
endif()
# Test programs of torch-free layers then do not load libtorch (0.5 s per test process).
check_linker_flag(CXX "-Wl,--as-needed" SDZ_HAVE_AS_NEEDED)
if(SDZ_HAVE_AS_NEEDED)
  add_link_options(-Wl,--as-needed)
endif()

add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-Wall> $<$<COMPILE_LANGUAGE:C,CXX>:-Wextra>)  # not nvcc's flags
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  add_compile_options(-O2)
endif()
