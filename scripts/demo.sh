#!/usr/bin/env bash
# Builds ember's example and runs its demo. Until the sentiment classifier lands
# (examples/sentiment), the demo is the quickstart tour in examples/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc 2>/dev/null || echo 2)" --target ember-quickstart
exec build/release/examples/quickstart/ember-quickstart "$@"
