# The code version (git describe) goes into a generated header, refreshed on every build.
set(SDZ_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
file(MAKE_DIRECTORY ${SDZ_GENERATED_DIR}/sdzero)
add_custom_target(sdz_version ALL
  COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${SDZ_GENERATED_DIR}/sdzero/version_gen.hpp
          -DVER=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${SDZ_GENERATED_DIR}/sdzero/version_gen.hpp
  COMMENT "sdzero: version header")
