# Fails when an include in launcher/ points up or sideways between layers.
#   cmake -DROOT=path/to/launcher -P check-includes.cmake
#
# Each folder is a layer; a file may include its own folder and any layer
# below it, nothing else:
#
#   cli 4  →  report 3, run 3  →  host 2, qemu 2, import 2, init 2  →  profile 1  →  base 0
#
# Same-rank folders (report/run, host/qemu/import/init) never include each other: the
# argv builder must stay pure (no host access), and the host changes must not
# depend on how QEMU is driven. A launcher header must be named with its
# folder ("host/bind.h"), so that this check sees every edge; headers of other
# libraries ("qmp.h", <jansson.h>) are not ours to rank.
cmake_minimum_required(VERSION 3.20)
if(NOT ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=DIR -P check-includes.cmake")
endif()
get_filename_component(ROOT "${ROOT}" ABSOLUTE)

set(rank_base 0)
set(rank_profile 1)
set(rank_qemu 2)
set(rank_host 2)
set(rank_import 2) # a file to a profile: no host access, no QEMU
set(rank_init 2)   # a snapshot of the host to a profile: pure (report/ reads the host)
set(rank_run 3)
set(rank_report 3)
set(rank_cli 4)
set(layers base profile qemu host import init run report cli)

# Every header of ours, by its bare name, to catch an include without its folder.
set(own_headers "")
foreach(layer IN LISTS layers)
  file(GLOB hs RELATIVE ${ROOT}/${layer} ${ROOT}/${layer}/*.h)
  list(APPEND own_headers ${hs})
endforeach()

set(errors 0)
file(GLOB_RECURSE files RELATIVE ${ROOT} ${ROOT}/*.c ${ROOT}/*.h)
foreach(f IN LISTS files)
  string(REGEX MATCH "^[^/]+" from "${f}")
  if(NOT DEFINED rank_${from} OR f STREQUAL from)
    message(SEND_ERROR "${f}: not in a layer folder (${layers})")
    math(EXPR errors "${errors} + 1")
    continue()
  endif()
  file(STRINGS ${ROOT}/${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*" "\\1" inc "${line}")
    if(inc MATCHES "^([a-z]+)/")
      set(to ${CMAKE_MATCH_1})
      if(NOT DEFINED rank_${to})
        continue()
      endif()
      if(NOT to STREQUAL from AND NOT rank_${to} LESS rank_${from})
        if(rank_${to} EQUAL rank_${from})
          set(why "sideways")
        else()
          set(why "up")
        endif()
        message(SEND_ERROR "${f}: #include \"${inc}\" points ${why}: ${from}/ may include "
                           "its own folder and the layers below it only")
        math(EXPR errors "${errors} + 1")
      endif()
    elseif(inc IN_LIST own_headers)
      message(SEND_ERROR "${f}: #include \"${inc}\": name the folder of a launcher header")
      math(EXPR errors "${errors} + 1")
    endif()
  endforeach()
endforeach()
if(errors GREATER 0)
  message(FATAL_ERROR "${errors} include(s) break the layering of launcher/ (docs/design.md)")
endif()
