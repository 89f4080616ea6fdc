# layer_check.cmake — the layer rule of docs/architecture.md, checked over the include graph:
# a file of src/NAME may include "X/..." only when X is NAME or one of NAME's DEPS (as declared
# by codebind_layer in CMakeLists.txt). Any other include is a back-edge and fails.
#
# From CMakeLists.txt: include() this file, then codebind_check_layers(<src dir>) with
# CODEBIND_LAYERS and CODEBIND_DEPS_<layer> set. Standalone (what the tests do):
#   cmake -DCODEBIND_SRC=<src dir> -DCODEBIND_LAYER_TABLE=<build>/codebind_layers.cmake -P layer_check.cmake
if(CMAKE_SCRIPT_MODE_FILE)
  cmake_minimum_required(VERSION 3.25)  # policies (IN_LIST) as in the project
endif()

function(codebind_check_layers src)
  set(violations "")
  foreach(layer ${CODEBIND_LAYERS})
    file(GLOB_RECURSE files ${src}/${layer}/*.h ${src}/${layer}/*.cpp ${src}/${layer}/*.inc)
    foreach(f ${files})
      file(STRINGS ${f} incs REGEX "^#include \"[a-z_]+/")
      foreach(inc ${incs})
        string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" to "${inc}")
        if(NOT to STREQUAL layer AND NOT to IN_LIST CODEBIND_DEPS_${layer})
          file(RELATIVE_PATH rel ${src} ${f})
          string(APPEND violations "\n  src/${rel}: ${inc} (layer '${layer}' may use: ${layer} ${CODEBIND_DEPS_${layer}})")
        endif()
      endforeach()
    endforeach()
  endforeach()
  if(violations)
    message(FATAL_ERROR "codebind: include back-edges across layers (see docs/architecture.md):${violations}")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  include(${CODEBIND_LAYER_TABLE})
  codebind_check_layers(${CODEBIND_SRC})
  message(STATUS "codebind: layers OK")
endif()
