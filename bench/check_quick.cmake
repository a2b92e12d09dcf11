# ctest driver for bench_quick: runs `snapconf-bench --quick` into a fresh
# folder and fails unless it exits 0 and leaves non-empty result files.
# Usage: cmake -DBENCH=<snapconf-bench> -DOUT=<dir> -P check_quick.cmake

if(NOT BENCH OR NOT OUT)
  message(FATAL_ERROR "check_quick.cmake needs -DBENCH=... and -DOUT=...")
endif()

file(REMOVE_RECURSE "${OUT}")
execute_process(COMMAND "${BENCH}" --quick --out "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "snapconf-bench --quick exited with ${rc}")
endif()

foreach(name results.csv results.md)
  if(NOT EXISTS "${OUT}/${name}")
    message(FATAL_ERROR "snapconf-bench --quick did not write ${OUT}/${name}")
  endif()
  file(SIZE "${OUT}/${name}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "snapconf-bench --quick wrote an empty ${OUT}/${name}")
  endif()
endforeach()

file(STRINGS "${OUT}/results.csv" header REGEX "^section,figure,")
if(NOT header)
  message(FATAL_ERROR "${OUT}/results.csv has no header row")
endif()
