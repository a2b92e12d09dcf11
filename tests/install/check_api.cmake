# Checks of the public API against what ships, run with cmake -P:
#
#   -DMODE=exports -DHEADER=snapconf.h -DLIBRARY=libsnapconf.so -DNM=nm
#       The shared library exports exactly the functions declared with
#       SNAPCONF_API in the header: nothing more (an internal symbol leaking
#       out of libsnapconf.map), nothing less (a declared function missing or
#       hidden); and every export carries a SNAPCONF_* symbol version.
#
#   -DMODE=man -DHEADER=snapconf.h -DMAN=libsnapconf.3
#       libsnapconf(3) documents every function the header declares: a
#       prototype in a synopsis line (.B or .BI, "name(") and a paragraph of
#       its own in the DESCRIPTION (named in the tag line after a .TP); and
#       it declares no function the header does not have.
#
#   -DMODE=version -DHEADER=snapconf.h -DVERSION=X.Y.Z -DDEBIAN_CHANGELOG=...
#   -DCHANGELOG=CHANGELOG.md
#       The version is said in four places and they agree: project() in
#       CMakeLists.txt (VERSION), the SNAPCONF_VERSION_* macros, the top
#       entry of packaging/debian/changelog (upstream part) and a section of
#       CHANGELOG.md.
#
#   -DMODE=programs -DCLI=snapconf -DDAEMON=snapconfd -DCLI_MAN=snapconf.1
#   -DDAEMON_MAN=snapconfd.8
#       snapconf(1) describes every command `snapconf --help` lists and every
#       option the help of the tool and of each command names; snapconfd(8)
#       every option in the OPTIONS section of `snapconfd --help`.
#
# Each failure lists the names concerned and what to do.
cmake_minimum_required(VERSION 3.25)

function(header_functions header out)
  file(STRINGS "${header}" lines REGEX "^SNAPCONF_API ")
  set(names "")
  foreach(line IN LISTS lines)
    if(line MATCHES "(snapconf_[a-z0-9_]+)[ \t]*\\(")
      list(APPEND names ${CMAKE_MATCH_1})
    else()
      message(FATAL_ERROR "${header}: cannot find the function name in: ${line}\n"
              "(check_api.cmake expects 'SNAPCONF_API type name(' on one line)")
    endif()
  endforeach()
  list(LENGTH names count)
  if(count LESS 10)
    message(FATAL_ERROR "${header}: only ${count} SNAPCONF_API functions found; parsing broke")
  endif()
  list(SORT names)
  set(${out} ${names} PARENT_SCOPE)
endfunction()

# Prints the difference of two lists and fails when there is one.
function(report_difference what_a a what_b b advice)
  set(only_a ${a})
  if(b)
    list(REMOVE_ITEM only_a ${b})
  endif()
  set(only_b ${b})
  if(a)
    list(REMOVE_ITEM only_b ${a})
  endif()
  set(failed FALSE)
  if(only_a)
    list(JOIN only_a "\n  " text)
    message(SEND_ERROR "${what_a} but not ${what_b}:\n  ${text}")
    set(failed TRUE)
  endif()
  if(only_b)
    list(JOIN only_b "\n  " text)
    message(SEND_ERROR "${what_b} but not ${what_a}:\n  ${text}")
    set(failed TRUE)
  endif()
  if(failed)
    message(FATAL_ERROR "${advice}")
  endif()
endfunction()

# The long options (--name) a program's help text names, sorted; with
# SECTION, only those in that section of a man-page-like help (from the
# line SECTION to the next line in capitals).
function(help_options program args out)
  cmake_parse_arguments(PARSE_ARGV 3 arg "" "SECTION" "")
  execute_process(COMMAND "${program}" ${args} OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${program} ${args} failed (${rc})")
  endif()
  if(arg_SECTION)
    string(FIND "${help}" "\n${arg_SECTION}\n" start)
    if(start EQUAL -1)
      message(FATAL_ERROR "no ${arg_SECTION} section in `${program} ${args}`")
    endif()
    string(SUBSTRING "${help}" ${start} -1 help)
    string(REGEX REPLACE "^\n${arg_SECTION}\n" "" help "${help}")
    string(REGEX REPLACE "\n[A-Z][A-Z ]+\n.*" "" help "${help}")
  endif()
  string(REGEX MATCHALL "--[a-z][a-z0-9-]*" options "${help}")
  list(REMOVE_DUPLICATES options)
  list(SORT options)
  set(${out} ${options} PARENT_SCOPE)
endfunction()

# Fails listing the items of `wanted` that `page` (roff text) lacks, each
# looked for as its roff spelling (\- for each -).
function(expect_in_page page_file wanted what)
  file(READ "${page_file}" page)
  set(missing "")
  foreach(item IN LISTS wanted)
    string(REPLACE "-" "\\-" roff "${item}")
    string(FIND "${page}" "${roff}" at)
    if(at EQUAL -1)
      list(APPEND missing "${item}")
    endif()
  endforeach()
  if(missing)
    list(JOIN missing "\n  " text)
    message(FATAL_ERROR "${page_file} does not describe these ${what}:\n  ${text}\n"
            "Document them in the page (the help text is what users see first; the page "
            "must not fall behind it).")
  endif()
endfunction()

if(MODE STREQUAL "programs")
  # snapconf: the commands of its --help, and the options of every help.
  execute_process(COMMAND "${CLI}" --help OUTPUT_VARIABLE help RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${CLI} --help failed (${rc})")
  endif()
  string(REGEX MATCH "Commands:\n(([ ]+[a-z][^\n]*\n)+)" block "${help}")
  string(REGEX MATCHALL "\n[ ]+[a-z][a-z-]*" commands "\n${CMAKE_MATCH_1}")
  list(TRANSFORM commands STRIP)
  list(LENGTH commands ncommands)
  if(ncommands LESS 3)
    message(FATAL_ERROR "found only ${ncommands} commands in `${CLI} --help`; parsing broke")
  endif()
  file(READ "${CLI_MAN}" page)
  set(missing "")
  foreach(command IN LISTS commands)
    # A command is described by a tagged paragraph: .TP, then .B command.
    if(NOT page MATCHES "\n\\.TP\n\\.B ${command}[ \n]")
      list(APPEND missing ${command})
    endif()
  endforeach()
  if(missing)
    list(JOIN missing "\n  " text)
    message(FATAL_ERROR "${CLI_MAN} has no COMMANDS paragraph (.TP, .B NAME) for:\n  ${text}")
  endif()
  help_options("${CLI}" --help options)
  foreach(command IN LISTS commands)
    if(NOT command STREQUAL "help")
      help_options("${CLI}" "${command};--help" command_options)
      list(APPEND options ${command_options})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES options)
  expect_in_page("${CLI_MAN}" "${options}" "options of snapconf")
  list(LENGTH options ncli)
  help_options("${DAEMON}" --help daemon_options SECTION OPTIONS)
  expect_in_page("${DAEMON_MAN}" "${daemon_options}" "options of snapconfd")
  list(LENGTH daemon_options ndaemon)
  message(STATUS "programs: ${ncommands} commands and ${ncli} options of snapconf, "
          "${ndaemon} options of snapconfd, all in their man pages")
  return()
endif()

if(MODE STREQUAL "version")
  file(STRINGS "${HEADER}" macros REGEX "^#define SNAPCONF_VERSION_(MAJOR|MINOR|PATCH) ")
  foreach(part MAJOR MINOR PATCH)
    set(${part} "?")
    foreach(line IN LISTS macros)
      if(line MATCHES "^#define SNAPCONF_VERSION_${part} +([0-9]+)")
        set(${part} ${CMAKE_MATCH_1})
      endif()
    endforeach()
  endforeach()
  set(header_version "${MAJOR}.${MINOR}.${PATCH}")
  file(STRINGS "${DEBIAN_CHANGELOG}" top LIMIT_COUNT 1)
  if(top MATCHES "^snapconf \\(([0-9.]+)-[^)]+\\)")
    set(debian_version "${CMAKE_MATCH_1}")
  else()
    set(debian_version "? (cannot read: ${top})")
  endif()
  file(STRINGS "${CHANGELOG}" sections REGEX "^## \\[${VERSION}\\]")
  set(failed FALSE)
  if(NOT header_version STREQUAL VERSION)
    message(SEND_ERROR "${HEADER} says ${header_version}, CMakeLists.txt project() says ${VERSION}")
    set(failed TRUE)
  endif()
  if(NOT debian_version STREQUAL VERSION)
    message(SEND_ERROR "${DEBIAN_CHANGELOG} is at ${debian_version}, CMakeLists.txt at "
            "${VERSION}: add an entry (dch -v ${VERSION}-1 -c ${DEBIAN_CHANGELOG})")
    set(failed TRUE)
  endif()
  if(NOT sections)
    message(SEND_ERROR "${CHANGELOG} has no section '## [${VERSION}]'")
    set(failed TRUE)
  endif()
  if(failed)
    message(FATAL_ERROR "The version must be the same everywhere (packaging/README.md, "
            "\"Releasing a version\").")
  endif()
  message(STATUS "version: ${VERSION} in CMakeLists.txt, the header, the Debian changelog and CHANGELOG.md")
  return()
endif()

header_functions("${HEADER}" declared)
list(LENGTH declared ndeclared)

if(MODE STREQUAL "exports")
  execute_process(COMMAND "${NM}" -D --defined-only "${LIBRARY}"
                  OUTPUT_VARIABLE nm_out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} -D --defined-only ${LIBRARY} failed (${rc})")
  endif()
  string(REPLACE "\n" ";" nm_lines "${nm_out}")
  set(exported "")
  set(unversioned "")
  foreach(line IN LISTS nm_lines)
    # "ADDRESS TYPE NAME[@@VERSION]"; type A is a version definition.
    if(NOT line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) ([^ @]+)(@@?([^ ]+))?$")
      continue()
    endif()
    set(type ${CMAKE_MATCH_1})
    set(name ${CMAKE_MATCH_2})
    set(version "${CMAKE_MATCH_4}")
    if(type STREQUAL "A")
      continue()
    endif()
    list(APPEND exported ${name})
    if(NOT version MATCHES "^SNAPCONF_")
      list(APPEND unversioned "${name} (version '${version}')")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES exported)
  list(SORT exported)
  report_difference("exported by ${LIBRARY}" "${exported}"
                    "declared with SNAPCONF_API in ${HEADER}" "${declared}"
    "The shared library must export exactly the public API.  An internal symbol
leaks: make it static or name it snapconf__* (hidden by src/libsnapconf.map).
A declared function is not exported: define it, with SNAPCONF_API.")
  if(unversioned)
    list(JOIN unversioned "\n  " text)
    message(FATAL_ERROR "exported without a SNAPCONF_* symbol version:\n  ${text}\n"
            "src/libsnapconf.map must give every export a version.")
  endif()
  list(LENGTH exported n)
  message(STATUS "exports: ${n} symbols, all declared, all versioned; all ${ndeclared} declared functions exported")

elseif(MODE STREQUAL "man")
  file(STRINGS "${MAN}" man_lines)
  set(in_synopsis "")
  set(described "")
  set(section "")
  set(previous "")
  foreach(line IN LISTS man_lines)
    set(after_tp FALSE)
    if(previous STREQUAL ".TP")
      set(after_tp TRUE)
    endif()
    set(previous "${line}")
    if(line MATCHES "^\\.SH +\"?([A-Z ]+)")
      set(section "${CMAKE_MATCH_1}")
      continue()
    endif()
    if(section STREQUAL "SYNOPSIS" AND line MATCHES "^\\.BI? ")
      # A prototype: the name directly followed by '('.
      string(REGEX MATCHALL "snapconf_[a-z0-9_]+\\(" protos "${line}")
      foreach(p IN LISTS protos)
        string(REPLACE "(" "" p "${p}")
        list(APPEND in_synopsis ${p})
      endforeach()
    elseif(section STREQUAL "DESCRIPTION" AND after_tp)
      string(REGEX MATCHALL "snapconf_[a-z0-9_]+" names "${line}")
      list(APPEND described ${names})
    endif()
  endforeach()
  list(REMOVE_DUPLICATES in_synopsis)
  list(SORT in_synopsis)
  report_difference("declared with SNAPCONF_API in ${HEADER}" "${declared}"
                    "in the SYNOPSIS of ${MAN}" "${in_synopsis}"
    "Every public function needs its prototype in libsnapconf(3)'s SYNOPSIS (.BI line),
and a function removed from the header must leave the page too.")
  set(undescribed ${declared})
  if(described)
    list(REMOVE_ITEM undescribed ${described})
  endif()
  if(undescribed)
    list(JOIN undescribed "\n  " text)
    message(FATAL_ERROR "no paragraph in the DESCRIPTION of ${MAN}:\n  ${text}\n"
            "Give each a .TP paragraph (.BR name () as its tag) saying what it does, "
            "as its comment in the header does.")
  endif()
  message(STATUS "man: all ${ndeclared} public functions in the synopsis and described")

else()
  message(FATAL_ERROR "check_api.cmake: MODE must be exports, man, version or programs")
endif()
