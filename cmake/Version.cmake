# The code version (git describe) goes into a generated header, refreshed on every build.
set(SDZ_GENERATED_DIR ${PROJECT_BINARY_DIR}/generated)
file(MAKE_DIRECTORY ${SDZ_GENERATED_DIR}/sdzero)
add_custom_target(sdz_version ALL
  COMMAND ${CMAKE_COMMAND} -DSRC=${PROJECT_SOURCE_DIR} -DOUT=${SDZ_GENERATED_DIR}/sdzero/version_gen.hpp
          -DVER=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${SDZ_GENERATED_DIR}/sdzero/version_gen.hpp
  COMMENT "sdzero: version header")

# The demo's configuration is compiled into the binary, so `sdzero` alone runs it from anywhere.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/configs/demo.ini)
file(READ ${PROJECT_SOURCE_DIR}/configs/demo.ini SDZ_DEMO_INI)
file(WRITE ${SDZ_GENERATED_DIR}/sdzero/demo_ini_gen.tmp
     "#pragma once\n// Generated from configs/demo.ini by cmake/Version.cmake.\n"
     "inline constexpr const char* kDemoIni = R\"SDZINI(${SDZ_DEMO_INI})SDZINI\";\n")
configure_file(${SDZ_GENERATED_DIR}/sdzero/demo_ini_gen.tmp ${SDZ_GENERATED_DIR}/sdzero/demo_ini_gen.hpp COPYONLY)
