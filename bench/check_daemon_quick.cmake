# ctest driver for bench_daemon_quick: runs `snapconf-bench-daemon --quick`
# into a fresh folder and fails unless it exits 0 and leaves non-empty result
# files with a header row that names libcurl and libmicrohttpd.  Timing
# targets are never asserted; a missing python3-yaml or yq is reported by
# the program and, with --quick, is not an error.
# Usage: cmake -DBENCH=<snapconf-bench-daemon> -DARGS="<args>" -DOUT=<dir>
#        -P check_daemon_quick.cmake

if(NOT BENCH OR NOT OUT)
  message(FATAL_ERROR "check_daemon_quick.cmake needs -DBENCH=... and -DOUT=...")
endif()

file(REMOVE_RECURSE "${OUT}")
execute_process(COMMAND "${BENCH}" ${ARGS} --quick --out "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "snapconf-bench-daemon --quick exited with ${rc}")
endif()

foreach(name results-daemon.csv results-daemon.md)
  if(NOT EXISTS "${OUT}/${name}")
    message(FATAL_ERROR "snapconf-bench-daemon --quick did not write ${OUT}/${name}")
  endif()
  file(SIZE "${OUT}/${name}" size)
  if(size EQUAL 0)
    message(FATAL_ERROR "snapconf-bench-daemon --quick wrote an empty ${OUT}/${name}")
  endif()
endforeach()

file(STRINGS "${OUT}/results-daemon.csv" header REGEX "^section,figure,")
if(NOT header)
  message(FATAL_ERROR "${OUT}/results-daemon.csv has no header row")
endif()
file(STRINGS "${OUT}/results-daemon.csv" versions REGEX "libcurl .*libmicrohttpd")
if(NOT versions)
  message(FATAL_ERROR "${OUT}/results-daemon.csv does not name libcurl and libmicrohttpd")
endif()
