# ctest driver for bench_layers_quick: runs `snapconf-bench-layers --quick`
# into a fresh folder and fails unless it exits 0 and leaves non-empty
# result files with a header row.  Timing targets are never asserted.
# Usage: cmake -DBENCH=<snapconf-bench-layers> -DOUT=<dir> -P check_layers_quick.cmake

if(NOT BENCH OR NOT OUT)
  message(FATAL_ERROR "check_layers_quick.cmake needs -DBENCH=... and -DOUT=...")
endif()

file(REMOVE_RECURSE "${OUT}")
execute_process(COMMAND "${BENCH}" --quick --out "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "snapconf-bench-layers --quick exited with ${rc}")
endif()

foreach(name results-layers.csv results-layers.md)
  if(NOT EXISTS "${OUT}/${name}")
    message(FATAL_ERROR "snapconf-bench-layers --quick did not write ${OUT}/${name}")
  endif()
  file(SIZE "${OUT}/${name}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "snapconf-bench-layers --quick wrote an empty ${OUT}/${name}")
  endif()
endforeach()

file(STRINGS "${OUT}/results-layers.csv" rows REGEX "snapconf_set, one file, in memory: median")
if(NOT rows)
  message(FATAL_ERROR "${OUT}/results-layers.csv has no set latency row")
endif()
