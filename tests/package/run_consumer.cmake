# Builds and runs tests/package/consumer against ember in one of three ways (MODE):
#   subdirectory  add_subdirectory(<ember source>)
#   fetchcontent  FetchContent_Declare(ember SOURCE_DIR <ember source>)   (a local "download")
#   find_package  cmake --install ember into a prefix, then find_package(ember CONFIG)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(LAST_OUTPUT "${out}" PARENT_SCOPE)
endfunction()

set(extra)
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} -S ${EMBER_SOURCE_DIR} -B ${WORK_DIR}/ember-build
      -DCMAKE_CXX_COMPILER=${CXX} -DEMBER_BUILD_TESTS=OFF -DEMBER_BUILD_BENCH=OFF
      -DEMBER_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX=${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} --install ${WORK_DIR}/ember-build)
  set(extra -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
endif()

run(${CMAKE_COMMAND} -S ${EMBER_SOURCE_DIR}/tests/package/consumer -B ${WORK_DIR}/build
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release -DMODE=${MODE}
    -DEMBER_SOURCE_DIR=${EMBER_SOURCE_DIR} ${extra})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
string(FIND "${LAST_OUTPUT}" "consumer ok" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "consumer ran but printed:\n${LAST_OUTPUT}")
endif()
