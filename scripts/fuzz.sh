#!/usr/bin/env bash
# Runs ember's libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) for longer
# than CI's short pass, two at a time (one per core), and prints each target's executions, rate
# and outcome. The corpus grows in build/fuzz/corpus/<target>; a crash, timeout (> 10 s for one
# input) or out-of-memory (> 2 GiB) input is saved in build/fuzz/artifacts/ and fails the run.
#   scripts/fuzz.sh                      # every target, 600 s each
#   scripts/fuzz.sh tensor_ops cli       # some targets
#   FUZZ_SECONDS=60 scripts/fuzz.sh      # shorter
# Targets: safetensors tensor_ops model_file dataset text cli
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
seconds=${FUZZ_SECONDS:-600}
all=(safetensors tensor_ops model_file dataset text cli)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")

build=build/fuzz
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DEMBER_BUILD_FUZZERS=ON -DEMBER_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target $(printf 'fuzz_%s ' "${targets[@]}")

seeds_of() {
  case "$1" in
    safetensors|tensor_ops) echo "tests/fuzz/seeds/$1" ;;
    *) echo "examples/sentiment/tests/fuzz/seeds/$1" ;;
  esac
}
binary_of() {
  find "$build" -type f -name "fuzz_$1" -perm -u+x | head -1
}

mkdir -p "$build/artifacts" "$build/logs"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# A failed allocation must reach ember as null (and become an ember::Error), as in a normal build.
export ASAN_OPTIONS=allocator_may_return_null=1
run_one() {
  local t=$1 corpus="$build/corpus/$1"
  mkdir -p "$corpus"
  "$(binary_of "$t")" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$corpus" "$(seeds_of "$t")" \
    >"$build/logs/$t.log" 2>&1
}

status=0
pending=("${targets[@]}")
while [ ${#pending[@]} -gt 0 ]; do
  batch=("${pending[@]:0:2}")
  pending=("${pending[@]:2}")
  pids=()
  for t in "${batch[@]}"; do
    run_one "$t" & pids+=($!)
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then status=1; fi
  done
done

printf '%-12s %12s %10s %8s %6s  %s\n' target executions exec/s seconds corpus result
for t in "${targets[@]}"; do
  log="$build/logs/$t.log"
  runs=$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" | awk '{print $2}' | tail -1 || true)
  rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | awk '{print $2}' | tail -1 || true)
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  if grep -qE 'ERROR: (libFuzzer|AddressSanitizer)|runtime error:|SUMMARY: ' "$log"; then
    result="FINDING (see $log and $build/artifacts/)"
    status=1
  else
    result="no finding"
  fi
  printf '%-12s %12s %10s %8s %6s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$seconds" "$corpus" "$result"
done
exit $status
