# Runs a fuzz target once over each input in a folder: the regression test
# for every crash or hang fuzzing has found (see README.md).  libFuzzer
# binaries given files instead of a corpus folder run each file once and
# exit non-zero on the first failure.
#
#   cmake -DFUZZER=path/to/fuzz_x -DINPUTS=tests/fuzz/regress/x -P run_regress.cmake
foreach(var FUZZER INPUTS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_regress.cmake: -D${var}=... is required")
  endif()
endforeach()

# Globbed when the test runs, so a new input needs no reconfigure.  Dot
# files (.gitkeep) are not inputs.
file(GLOB inputs LIST_DIRECTORIES false "${INPUTS}/*")
list(FILTER inputs EXCLUDE REGEX "/\\.[^/]*$")
list(SORT inputs)
list(LENGTH inputs count)
if(count EQUAL 0)
  message(STATUS "no regression inputs in ${INPUTS}")
  return()
endif()

message(STATUS "running ${FUZZER} over ${count} inputs from ${INPUTS}")
# -timeout turns a hang into a failure here as well.
execute_process(COMMAND ${FUZZER} -timeout=10 -rss_limit_mb=2048 ${inputs}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}) on one of the inputs above")
endif()
