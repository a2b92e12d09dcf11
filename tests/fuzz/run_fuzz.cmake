# Fuzzes one target for a fixed time on a scratch copy of its seeds: the
# fuzz_<target>_smoke tests (CI) and `make fuzz` (long local runs).
#
#   cmake -DFUZZER=build-fuzz/tests/fuzz/fuzz_load -DNAME=load
#         -DSEEDS=tests/fuzz/corpus/load -DWORK=build-fuzz/tests/fuzz/work/load
#         -DSECONDS=60 [-DTIMEOUT=5] [-DDICT=file.dict] [-DFLAGS="-max_len=..."]
#         [-DYAML_ROOT=.] [-DSUITE=../shared/yaml-test-suite]
#         -P run_fuzz.cmake
#
# WORK/corpus is the scratch corpus: the seeds are copied into it and
# libFuzzer adds what it finds there, so the source tree is never written.
# It is kept between runs, so that a second run starts where the first one
# stopped; delete WORK to start over.  Crashes, hangs and leaks land in
# WORK/artifacts/ (see README.md for reproducing them).
foreach(var FUZZER NAME SEEDS WORK SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzz.cmake: -D${var}=... is required")
  endif()
endforeach()

set(corpus "${WORK}/corpus")
set(artifacts "${WORK}/artifacts")
file(MAKE_DIRECTORY "${corpus}" "${artifacts}")

# Copies file into the corpus under a name made from its path below base,
# so that the many in.yaml files of the test suite do not collide.
function(seed_copy file base prefix)
  file(RELATIVE_PATH rel "${base}" "${file}")
  string(REGEX REPLACE "[^A-Za-z0-9._-]" "_" flat "${rel}")
  file(COPY_FILE "${file}" "${corpus}/${prefix}${flat}" ONLY_IF_DIFFERENT)
endfunction()

file(GLOB seeds LIST_DIRECTORIES false "${SEEDS}/*")
foreach(f IN LISTS seeds)
  seed_copy("${f}" "${SEEDS}" "seed-")
endforeach()
list(LENGTH seeds n_seeds)
set(summary "${n_seeds} checked-in seeds")

# The loader's seeds also come from the project's own YAML files...
if(DEFINED YAML_ROOT)
  file(GLOB project_yaml LIST_DIRECTORIES false "${YAML_ROOT}/conf/*.yaml")
  file(GLOB_RECURSE test_yaml LIST_DIRECTORIES false "${YAML_ROOT}/tests/*.yaml")
  foreach(f IN LISTS project_yaml test_yaml)
    seed_copy("${f}" "${YAML_ROOT}" "project-")
  endforeach()
  list(LENGTH project_yaml n1)
  list(LENGTH test_yaml n2)
  math(EXPR n "${n1} + ${n2}")
  string(APPEND summary ", ${n} project YAML files")
endif()

# ...and from the YAML test suite: CASE/in.yaml or CASE/NN/in.yaml.
if(DEFINED SUITE AND NOT SUITE STREQUAL "")
  file(GLOB suite_yaml LIST_DIRECTORIES false "${SUITE}/*/in.yaml" "${SUITE}/*/*/in.yaml")
  list(LENGTH suite_yaml n)
  if(n EQUAL 0)
    # Fuzzing still works without them; the conformance test is the one
    # that insists on the suite being there.
    message(WARNING "no in.yaml files under ${SUITE} (SNAPCONF_YAML_TEST_SUITE); "
                    "fuzzing without the YAML test suite's seeds")
  endif()
  foreach(f IN LISTS suite_yaml)
    seed_copy("${f}" "${SUITE}" "yts-")
  endforeach()
  string(APPEND summary ", ${n} YAML test suite files")
endif()

if(NOT DEFINED TIMEOUT)
  set(TIMEOUT 5)
endif()
set(args -max_total_time=${SECONDS} -timeout=${TIMEOUT} -rss_limit_mb=2048
    -artifact_prefix=${artifacts}/ -print_final_stats=1)
if(DEFINED DICT AND EXISTS "${DICT}")
  list(APPEND args -dict=${DICT})
endif()
if(DEFINED FLAGS AND NOT FLAGS STREQUAL "")
  separate_arguments(extra UNIX_COMMAND "${FLAGS}")
  list(APPEND args ${extra})
endif()

message(STATUS "fuzz_${NAME}: ${SECONDS} s from ${summary}, corpus ${corpus}")
file(GLOB earlier LIST_DIRECTORIES false "${artifacts}/*")
execute_process(COMMAND ${FUZZER} ${args} ${corpus} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  # Only this run's: earlier runs may have left artifacts of their own.
  file(GLOB found LIST_DIRECTORIES false "${artifacts}/*")
  if(earlier)
    list(REMOVE_ITEM found ${earlier})
  endif()
  list(JOIN found "\n  " found_text)
  message(FATAL_ERROR
    "fuzz_${NAME} failed (${rc}).  Inputs that failed:\n  ${found_text}\n"
    "Reproduce one with: ${FUZZER} FILE\n"
    "then save it under tests/fuzz/regress/${NAME}/ before fixing the bug (README.md).")
endif()
