#!/usr/bin/env bash
# Builds ember (Release, warnings as errors) and runs every test with ctest.
#   scripts/test.sh              # the README's test command: g++, Release
#   scripts/test.sh --sanitize   # the same tests built with -fsanitize=address,undefined
#   scripts/test.sh --clang      # the same tests built with clang++ (Release) under ASan + UBSan,
#                                # -Wconversion, a short pass of every fuzz target
#   scripts/test.sh --tsan       # the threaded tests under ThreadSanitizer (clang, libomp with
#                                # Archer, the OMPT tool that tells TSan about OpenMP's barriers)
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
    # clang, -Wconversion, every test under clang's AddressSanitizer + UndefinedBehaviorSanitizer,
    # and a short pass of every fuzz target (the CI's one sanitized build: with the g++
    # --sanitize build as well, CI ran past its 45 minutes).
    # -O1, not Release's -O3: a third less compile time (a sentiment test file under ASan:
    # 102 s against 152 s), and the sanitizers need no more optimisation to see what they see;
    # NDEBUG as in Release, so the same code paths are checked.
    build=build/clang
    cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
          -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
          -DEMBER_WERROR=ON -DEMBER_BUILD_BENCH=OFF -DEMBER_BUILD_FUZZERS=ON \
          -DEMBER_SANITIZE=address,undefined
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  --tsan)
    # ThreadSanitizer sees only what is instrumented or annotated. LLVM's libomp reports its
    # barriers, locks and task dependences through OMPT; Archer (libarcher.so, shipped with
    # libomp) turns them into TSan happens-before edges, so real races between OpenMP threads
    # stay visible without a flood of false reports from the uninstrumented runtime.
    build=build/tsan
    archer="$(dirname "$(readlink -f "$(command -v clang++)")")/../lib/libarcher.so"
    if [ ! -f "$archer" ]; then
      echo "scripts/test.sh --tsan: Archer not found at $archer (Debian: libomp5-14)" >&2
      exit 1
    fi
    cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DEMBER_WERROR=ON -DEMBER_SANITIZE=thread -DEMBER_BUILD_BENCH=OFF -DEMBER_BUILD_EXAMPLES=ON
    cmake --build "$build" -j "$jobs" --target ember_tests sentiment_tests
    export OMP_TOOL_LIBRARIES="$archer" ARCHER_OPTIONS=verbose=1
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1"
    # Archer must be active, or races between OpenMP threads would go unreported.
    probe=$(OMP_NUM_THREADS=2 "$build/tests/ember_tests" \
              --gtest_filter=Concurrency.GemmAndElementwiseFromSeveralThreads 2>&1 || true)
    if ! grep -q "Archer detected OpenMP application with TSan" <<<"$probe"; then
      echo "scripts/test.sh --tsan: Archer did not load; OpenMP synchronisation would be invisible" >&2
      echo "$probe" >&2
      exit 1
    fi
    export ARCHER_OPTIONS=
    ctest --test-dir "$build" -j "$jobs" --output-on-failure \
          -R '^(Concurrency|Parallel|Allocator|Gemm|Elementwise|Reduce|Softmax)\.|sentiment\.Hostile\.PredictFromEight'
    exit 0
    ;;
  "")
    build=build/release
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=ON
    ;;
  *)
    echo "usage: scripts/test.sh [--sanitize|--clang|--tsan]" >&2
    exit 2
    ;;
esac
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" -j "$jobs" --output-on-failure
