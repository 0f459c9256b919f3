# Warnings for a project target (never edit the global CMAKE_CXX_FLAGS).
function(bcq_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
endfunction()

# bcq_add_test(NAME SOURCES... [LIBS ...] [LABELS ...] [TIMEOUT s])
# One gtest executable, its tests discovered into ctest (as MuJoCo's mujoco_test macro).
function(bcq_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES} ${T_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    BCQ_BINARY="$<TARGET_FILE:bcq>"
    BCQ_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  bcq_warnings(${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  set(props TIMEOUT ${T_TIMEOUT})
  if(T_LABELS)
    list(APPEND props LABELS "${T_LABELS}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
