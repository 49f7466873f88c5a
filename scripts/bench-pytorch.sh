#!/usr/bin/env bash
# ember beside PyTorch, whole models (bench/pytorch/compare.py): installs Debian's python3-torch
# if it is missing, builds bench_models (Release) and prints the table. Arguments go to
# compare.py (e.g. --json, --threads 1, --cases transformer).
#   scripts/bench-pytorch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "ember: installing python3-torch (PyTorch 1.13, the benchmark peer)"
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch
  else
    echo "install it with: sudo apt-get install -y python3-torch" >&2
    exit 1
  fi
fi
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=ON
cmake --build build/release -j "$(nproc 2>/dev/null || echo 2)" --target bench_models
uptime  # a second busy process wrecks multi-threaded timings: check the load first
exec bench/pytorch/compare.py "$@"
