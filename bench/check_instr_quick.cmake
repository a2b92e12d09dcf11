# ctest driver for bench_instr_quick: runs `snapconf-bench-instr --quick`
# (itself under valgrind's callgrind) into a fresh folder and fails unless it
# exits 0 and leaves non-empty result files.  No target is asserted.
# Usage: cmake -DBENCH=<snapconf-bench-instr> -DOUT=<dir> -P check_instr_quick.cmake

if(NOT BENCH OR NOT OUT)
  message(FATAL_ERROR "check_instr_quick.cmake needs -DBENCH=... and -DOUT=...")
endif()

file(REMOVE_RECURSE "${OUT}")
execute_process(COMMAND "${BENCH}" --quick --out "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "snapconf-bench-instr --quick exited with ${rc}")
endif()

foreach(name results-instructions.csv results-instructions.md)
  if(NOT EXISTS "${OUT}/${name}")
    message(FATAL_ERROR "snapconf-bench-instr --quick did not write ${OUT}/${name}")
  endif()
  file(SIZE "${OUT}/${name}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "snapconf-bench-instr --quick wrote an empty ${OUT}/${name}")
  endif()
endforeach()

file(STRINGS "${OUT}/results-instructions.csv" header REGEX "^section,figure,")
if(NOT header)
  message(FATAL_ERROR "${OUT}/results-instructions.csv has no header row")
endif()
