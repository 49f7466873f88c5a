#!/usr/bin/env bash
# Builds ember (Release, warnings as errors) and runs every test with ctest.
#   scripts/test.sh              # the README's test command: g++, Release
#   scripts/test.sh --sanitize   # the same tests built with -fsanitize=address,undefined
#   scripts/test.sh --clang      # the same tests built with clang++ (Release)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
case "${1:-}" in
  --sanitize)
    build=build/sanitize
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_WERROR=ON \
          -DEMBER_SANITIZE=address,undefined -DEMBER_BUILD_BENCH=OFF -DEMBER_BUILD_EXAMPLES=ON
    # allocator_may_return_null: an impossible allocation must fail softly (ember turns it into
    # an ember::Error) instead of ASan aborting the process.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  --clang)
    build=build/clang
    cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
          -DEMBER_WERROR=ON -DEMBER_BUILD_BENCH=OFF -DEMBER_BUILD_FUZZERS=ON
    ;;
  "")
    build=build/release
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=ON
    ;;
  *)
    echo "usage: scripts/test.sh [--sanitize|--clang]" >&2
    exit 2
    ;;
esac
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" -j "$jobs" --output-on-failure
