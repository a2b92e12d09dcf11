# Install rules for what `cmake --install` puts on a system (issue 8): the
# library (shared, with its SONAME, and static), the header, pkg-config and
# CMake package files, man pages, the example configuration, and the
# systemd units with their sysusers.d and tmpfiles.d entries.  The two
# programs install themselves (src/cli, src/daemon), as does the bash
# completion (src/cli).  packaging/README.md describes the result and the
# Debian packages built from it.
#
# Every path follows GNUInstallDirs, so that -DCMAKE_INSTALL_PREFIX=/usr
# with Debian's -DCMAKE_INSTALL_LIBDIR=lib/<triplet> gives the usual layout;
# the systemd directories below are cache variables because Debian 12 keeps
# units in /lib/systemd/system while a /usr/local install keeps them under
# its own prefix, where systemd also looks.

include(CMakePackageConfigHelpers)

set(SNAPCONF_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/snapconf"
    CACHE STRING "Where the CMake package files go, relative to the prefix")
# Relative by default, so that `cmake --install --prefix P` and DESTDIR put
# them under P like everything else; an absolute path overrides that.
set(SNAPCONF_SYSTEMD_UNITDIR "lib/systemd/system"
    CACHE STRING "Where the systemd units go (relative: under the prefix)")
set(SNAPCONF_SYSUSERSDIR "lib/sysusers.d"
    CACHE STRING "Where the sysusers.d entry creating the snapconf user goes")
set(SNAPCONF_TMPFILESDIR "lib/tmpfiles.d"
    CACHE STRING "Where the tmpfiles.d entry creating /run/snapconf goes")

# ---- The library ---------------------------------------------------------------

# Two export sets, because the static library needs libyaml and liburcu-bp
# at link time and the shared one does not: snapconfConfig.cmake loads the
# static target only when it can find those (pkg-config), so that a
# consumer of the shared library never needs their -dev packages.
install(TARGETS snapconf EXPORT snapconfTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS snapconf_static EXPORT snapconfStaticTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/snapconf.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT snapconfTargets NAMESPACE snapconf:: DESTINATION ${SNAPCONF_CMAKE_DIR})
install(EXPORT snapconfStaticTargets NAMESPACE snapconf:: DESTINATION ${SNAPCONF_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/snapconfConfig.cmake.in
  ${PROJECT_BINARY_DIR}/snapconfConfig.cmake
  INSTALL_DESTINATION ${SNAPCONF_CMAKE_DIR}
  NO_SET_AND_CHECK_MACRO)
# The SONAME changes with the major version (packaging/README.md, "ABI
# policy"), so a request for 0.1 accepts 0.x from 0.1 on, never 1.x.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/snapconfConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/snapconfConfig.cmake
              ${PROJECT_BINARY_DIR}/snapconfConfigVersion.cmake
        DESTINATION ${SNAPCONF_CMAKE_DIR})

# pkg-config: libdir and includedir relative to ${prefix} where they can be,
# as Debian's own .pc files write them.
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(SNAPCONF_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(SNAPCONF_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/snapconf.pc.in ${PROJECT_BINARY_DIR}/snapconf.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/snapconf.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---- Man pages -----------------------------------------------------------------

install(FILES ${PROJECT_SOURCE_DIR}/docs/man/snapconf.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/snapconfd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_SOURCE_DIR}/docs/man/libsnapconf.3 DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
# `man snapconf_open` and the like: one .so link page per public function,
# pointing at libsnapconf(3), generated from the header's declarations.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/snapconf.h snapconf_api_lines REGEX "^SNAPCONF_API ")
set(snapconf_man_links "")
foreach(line IN LISTS snapconf_api_lines)
  if(line MATCHES "(snapconf_[a-z0-9_]+)[ \t]*\\(")
    set(link ${PROJECT_BINARY_DIR}/man3/${CMAKE_MATCH_1}.3)
    file(CONFIGURE OUTPUT ${link} CONTENT ".so man3/libsnapconf.3\n")
    list(APPEND snapconf_man_links ${link})
  endif()
endforeach()
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/include/snapconf.h)
install(FILES ${snapconf_man_links} DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)

# ---- Example configuration and the system service ----------------------------------

install(FILES ${PROJECT_SOURCE_DIR}/conf/example.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# The example service, with its own CMakeLists.txt and Makefile that build
# it against the installed library.
install(FILES ${PROJECT_SOURCE_DIR}/examples/service/service.c
              ${PROJECT_SOURCE_DIR}/examples/service/CMakeLists.txt
              ${PROJECT_SOURCE_DIR}/examples/service/Makefile
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/service)

# The units need a snapconfd built with libsystemd (Type=notify, socket
# activation); without it none of this is installed.
get_target_property(snapconfd_defs snapconfd COMPILE_DEFINITIONS)
if(NOT "SNAPCONFD_HAVE_SYSTEMD" IN_LIST snapconfd_defs)
  return()
endif()
# The units name the daemon and its configuration by absolute path.
set(SNAPCONFD_PATH "${CMAKE_INSTALL_FULL_SBINDIR}/snapconfd")
set(SNAPCONFD_CONFIG "${CMAKE_INSTALL_FULL_SYSCONFDIR}/snapconf/config.yaml")
configure_file(${PROJECT_SOURCE_DIR}/packaging/snapconfd.service.in
               ${PROJECT_BINARY_DIR}/snapconfd.service @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/snapconfd.service
              ${PROJECT_SOURCE_DIR}/packaging/snapconfd.socket
        DESTINATION ${SNAPCONF_SYSTEMD_UNITDIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/snapconf.sysusers
        DESTINATION ${SNAPCONF_SYSUSERSDIR} RENAME snapconf.conf)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/snapconf.tmpfiles
        DESTINATION ${SNAPCONF_TMPFILESDIR} RENAME snapconf.conf)
