# ember_add_fuzzer(NAME SOURCE SEEDS_DIR [LIBRARIES…]): a libFuzzer target fuzz_NAME built with
# AddressSanitizer and UndefinedBehaviorSanitizer (clang only), and a ctest `fuzz.NAME` that runs
# it for EMBER_FUZZ_SECONDS from its seed corpus. One input may take at most 10 s and the process
# at most 2 GiB: a slow or memory-hungry input is a finding, as a crash is.
set(EMBER_FUZZ_SECONDS 20 CACHE STRING "Seconds each fuzz target runs under ctest")

function(ember_add_fuzzer name source seeds)
  add_executable(fuzz_${name} ${source})
  target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined
                         -fno-sanitize-recover=all -g)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_${name} PRIVATE ${ARGN})
  set(_corpus ${CMAKE_CURRENT_BINARY_DIR}/fuzz_corpus/${name})
  set(_artifacts ${CMAKE_CURRENT_BINARY_DIR}/fuzz_artifacts/)
  file(MAKE_DIRECTORY ${_corpus} ${_artifacts})
  add_test(NAME fuzz.${name}
           COMMAND fuzz_${name} -max_total_time=${EMBER_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048
                   -max_len=4096 -print_final_stats=1 -artifact_prefix=${_artifacts}${name}-
                   ${_corpus} ${seeds})
  math(EXPR _limit "${EMBER_FUZZ_SECONDS} + 120")
  set_tests_properties(fuzz.${name} PROPERTIES TIMEOUT ${_limit} LABELS fuzz
                       ENVIRONMENT "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1;ASAN_OPTIONS=allocator_may_return_null=1")
endfunction()
