# Test helpers shared by every part's tests.

# imsaka_gtest(NAME SOURCES ... LIBS ... [LABELS ...] [WRAPPER cmd...])
# A GoogleTest binary registered as one ctest test; WRAPPER runs it inside an
# environment (for example a private pcscd).
function(imsaka_gtest name)
  cmake_parse_arguments(arg "" "" "SOURCES;LIBS;LABELS;WRAPPER" ${ARGN})
  add_executable(${name} ${arg_SOURCES})
  imsaka_target(${name})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${arg_WRAPPER} $<TARGET_FILE:${name}>)
  set_tests_properties(${name} PROPERTIES LABELS "${arg_LABELS}")
endfunction()

# imsaka_fuzz(NAME SOURCE file LIBS ... SEEDS dir)
# With IMSAKA_FUZZ (clang), a libFuzzer binary that ctest runs for a bounded time
# from the seed corpus. Without it, the same target is linked to a replay driver
# and ctest runs it over the seeds, so every build compiles and exercises it.
set(IMSAKA_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz target runs in ctest")
function(imsaka_fuzz name)
  cmake_parse_arguments(arg "" "SOURCE;SEEDS" "LIBS" ${ARGN})
  add_executable(${name} ${arg_SOURCE})
  imsaka_target(${name})
  target_link_libraries(${name} PRIVATE ${arg_LIBS})
  if(IMSAKA_FUZZ)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
    add_test(NAME ${name}
             COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                     sh -c "mkdir -p '${work}' && exec \"$0\" -max_total_time=${IMSAKA_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 '${work}' '${arg_SEEDS}'"
                     $<TARGET_FILE:${name}>)
  else()
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
    add_test(NAME ${name} COMMAND ${name} ${arg_SEEDS})
  endif()
  set_tests_properties(${name} PROPERTIES LABELS fuzz)
endfunction()
