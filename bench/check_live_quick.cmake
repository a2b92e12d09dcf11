# ctest driver for bench_live_quick: runs `snapconf-bench-live --quick` into
# a fresh folder and fails unless it exits 0 and leaves non-empty result
# files with a header row.  Timing targets are never asserted.
# Usage: cmake -DBENCH=<snapconf-bench-live> -DOUT=<dir> -P check_live_quick.cmake

if(NOT BENCH OR NOT OUT)
  message(FATAL_ERROR "check_live_quick.cmake needs -DBENCH=... and -DOUT=...")
endif()

file(REMOVE_RECURSE "${OUT}")
execute_process(COMMAND "${BENCH}" --quick --out "${OUT}" --tmp "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "snapconf-bench-live --quick exited with ${rc}")
endif()

foreach(name results-live.csv results-live.md matrix.csv matrix.md matrix-summary.md
        matrix-reads.dat matrix-latency.dat reload.dat)
  if(NOT EXISTS "${OUT}/${name}")
    message(FATAL_ERROR "snapconf-bench-live --quick did not write ${OUT}/${name}")
  endif()
  file(SIZE "${OUT}/${name}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "snapconf-bench-live --quick wrote an empty ${OUT}/${name}")
  endif()
endforeach()

file(STRINGS "${OUT}/results-live.csv" header REGEX "^section,figure,")
if(NOT header)
  message(FATAL_ERROR "${OUT}/results-live.csv has no header row")
endif()
file(STRINGS "${OUT}/results-live.csv" liburcu REGEX "liburcu")
if(NOT liburcu)
  message(FATAL_ERROR "${OUT}/results-live.csv does not name the liburcu version")
endif()
