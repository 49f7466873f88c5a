#!/usr/bin/env bash
# clang-tidy (.clang-tidy: bugprone, performance) over every translation unit of the tests, the
# benchmarks and the example, so the library's headers are checked as they are instantiated.
# Findings are errors. Uses the compile commands of a clang configuration (no build needed).
#   scripts/tidy.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=build/tidy
cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
sources=$(find tests bench examples -name '*.cpp' -not -path '*/compile_fail/*' -not -path '*/fuzz/*' \
               -not -path '*/package/*' | sort)
echo "clang-tidy: $(echo "$sources" | wc -l) translation units"
# One process per core; xargs exits non-zero if any clang-tidy run reported a finding.
echo "$sources" | xargs -P "$(nproc 2>/dev/null || echo 2)" -n 1 \
  clang-tidy -p "$build" --quiet --header-filter='(include/ember|examples/sentiment/src)/.*' 2>/dev/null
echo "clang-tidy: no findings"
