# Script mode: writes OUT only when the text changes, so an unchanged version rebuilds nothing.
execute_process(COMMAND git -C ${SRC} describe --always --dirty --tags
                OUTPUT_VARIABLE GIT_DESC OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
if(NOT rc EQUAL 0 OR NOT GIT_DESC)
  set(GIT_DESC "unknown")
endif()
set(TEXT "#pragma once\n#define SDZ_VERSION \"${VER}\"\n#define SDZ_GIT_DESCRIBE \"${GIT_DESC}\"\n")
if(EXISTS ${OUT})
  file(READ ${OUT} OLD)
endif()
if(NOT "${OLD}" STREQUAL "${TEXT}")
  file(WRITE ${OUT} "${TEXT}")
endif()
