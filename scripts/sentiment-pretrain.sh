#!/usr/bin/env bash
# Pretrains ember-sentiment's transformer on one language of the shared pretraining corpus, in
# resumable runs: the first call learns the vocabulary and starts the run, every later call
# continues it (--resume) until the schedule's last step. Each call stops after --minutes.
#   scripts/sentiment-pretrain.sh zh [--minutes 60] [--steps N] [--data ../shared/data] [--out build/pretrain]
# --steps sets the schedule's length (default 15000); given to a later call, it changes the length
# of the run being resumed (--reschedule): the learning rate then decays to 0 at the new length.
# Writes <out>/<lang>/{vocab,encoder}.safetensors and appends the progress to
# <out>/<lang>/pretrain.log. The settings are the README's (Sentiment: the transformer).
set -euo pipefail

lang="${1:?usage: scripts/sentiment-pretrain.sh zh|en [--minutes N] [--data DIR] [--out DIR]}"
shift
minutes=60
steps_given=""
data="$(cd "$(dirname "$0")/.." && pwd)/../shared/data"
out="build/pretrain"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --steps) steps_given="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

case "$lang" in
  # Unigram pieces for both (README: why not one piece per character for Chinese).
  zh) vocab_args=(--type unigram --size 8000 --max-texts 300000); steps=15000 ;;
  en) vocab_args=(--type unigram --size 8000 --max-texts 300000); steps=15000 ;;
  *) echo "language must be zh or en, got $lang" >&2; exit 2 ;;
esac
if [ -n "$steps_given" ]; then steps="$steps_given"; fi

root="$(cd "$(dirname "$0")/.." && pwd)"
exe="$root/build/release/examples/sentiment/ember-sentiment"
if [ ! -x "$exe" ]; then
  cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build/release" --target ember-sentiment -j"$(nproc)"
fi

corpus="$data/pretrain/$lang.txt.gz"
dir="$out/$lang"
mkdir -p "$dir"
if [ ! -f "$dir/vocab.safetensors" ]; then
  "$exe" vocab --text "$corpus" --out "$dir/vocab.safetensors" "${vocab_args[@]}" | tee -a "$dir/pretrain.log"
fi

# The run's settings, given on every call: a checkpoint records them (a resume that disagreed
# would be refused), but one written before it did needs them given.
args=(pretrain --objective mlm --text "$corpus" --format text --out "$dir/encoder.safetensors"
      --dim 256 --layers 4 --heads 4 --ffn 1024 --max-len 128 --dropout 0
      --batch 64 --lr 5e-4 --warmup 0.06 --held-back 512 --seed 1
      --eval-every 500 --checkpoint-minutes 10 --max-minutes "$minutes")
if [ -f "$dir/encoder.safetensors" ]; then
  args+=(--resume)  # the checkpoint's plan, unless --steps asks for a new length
  if [ -n "$steps_given" ]; then args+=(--steps "$steps" --reschedule); fi
else
  args+=(--vocab "$dir/vocab.safetensors" --steps "$steps")
fi
echo "== $(date -u +%FT%TZ) $exe ${args[*]}" >> "$dir/pretrain.log"
"$exe" "${args[@]}" 2>&1 | tee -a "$dir/pretrain.log"
