#!/usr/bin/env bash
# Installs what ember's build, tests, benchmarks and examples need from Debian's packages,
# and only what is missing. Needs root or sudo to install; otherwise prints the exact command.
#   scripts/install-deps.sh          # check, install what is missing
#   scripts/install-deps.sh --check  # only report, exit 1 if something is missing
set -euo pipefail

# clang, libomp-dev and libclang-rt-14-dev: the second compiler CI builds with, libFuzzer
# (scripts/test.sh --clang) and ThreadSanitizer with libomp's Archer (scripts/test.sh --tsan);
# clang-tidy for scripts/tidy.sh.
# The sentiment example: utf8proc (Unicode NFKC), CLI11 (command line), nlohmann-json (--json
# output and model metadata), zlib (reads the gzip-compressed IMDB files and the pretraining
# corpus), SentencePiece (subword vocabularies for the transformer).
packages=(g++ cmake make libeigen3-dev libgtest-dev libbenchmark-dev clang libomp-dev libclang-rt-14-dev clang-tidy
          libutf8proc-dev libcli11-dev nlohmann-json3-dev zlib1g-dev libsentencepiece-dev)
# The GEMM benchmark's peers (optional: bench_gemm skips a peer that is not installed);
# oneDNN is the bf16 and int8 peer.
if [ "${EMBER_WITH_PEERS:-1}" = "1" ]; then packages+=(libopenblas-dev libblis-dev libdnnl-dev); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "ember: missing Debian packages: ${missing[*]}"
if [ "${1:-}" = "--check" ]; then
  echo "install them with: sudo apt-get install -y ${missing[*]}"
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  apt_get=(apt-get)
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt_get=(sudo apt-get)
else
  echo "ember: cannot install without root. Run:"
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! "${apt_get[@]}" install -y --no-install-recommends "${missing[@]}"; then
  "${apt_get[@]}" update
  "${apt_get[@]}" install -y --no-install-recommends "${missing[@]}"
fi
