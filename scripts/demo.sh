#!/usr/bin/env bash
# The README's first command: installs what is missing, builds the sentiment classifier
# (Release) and runs its demo — trains on the built-in bilingual corpus, prints held-out
# accuracy and a confusion matrix, and classifies a few sentences. Extra arguments go to the
# demo (e.g. --seed 2).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc 2>/dev/null || echo 2)" --target ember-sentiment
exec build/release/examples/sentiment/ember-sentiment demo "$@"
