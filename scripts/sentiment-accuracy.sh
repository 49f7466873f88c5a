#!/usr/bin/env bash
# Trains and evaluates ember-sentiment's models on the shared datasets and prints the README's
# accuracy table (accuracy, macro-F1, training time, inference texts/s, model size).
#   scripts/sentiment-accuracy.sh [DATA_DIR] [MODELS]     e.g. ../shared/data "bow cnn ensemble"
# MODELS: bow, cnn, and cnn+imdb-vectors (SST-2 only: the cnn from vectors pretrained on IMDB's
# training reviews; the pretraining time is not in the training time column), and ensemble
# (bow and cnn together, probabilities averaged — on SST-2 the cnn from IMDB vectors when it was
# trained; nothing is trained: it evaluates the files the other models left, so list it last).
# DATA_DIR holds chnsenticorp/, sst2/ and imdb/ (see the README for where to get them).
# Early stopping uses each dataset's dev split (IMDB has none: every 10th training review);
# the reported figure is on the test split (SST-2: dev, as GLUE reports, and test too).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
models=${2:-bow cnn cnn+imdb-vectors ensemble}
exe=build/release/examples/sentiment/ember-sentiment
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc 2>/dev/null || echo 2)" --target ember-sentiment >/dev/null
out=build/sentiment-models
mkdir -p "$out"

field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

echo "| model | dataset | split | accuracy | macro-F1 | training time | inference texts/s | model size |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for model in $models; do
  for ds in chnsenticorp sst2 imdb; do
    args=(--model "$model")
    if [ "$model" = ensemble ]; then
      cnn=$out/$ds-cnn.safetensors
      [ "$ds" = sst2 ] && [ -e "$out/$ds-cnn+imdb-vectors.safetensors" ] && cnn=$out/$ds-cnn+imdb-vectors.safetensors
      [ -e "$out/$ds-bow.safetensors" ] && [ -e "$cnn" ] || { echo "skipping the $ds ensemble: train bow and cnn first" >&2; continue; }
      case $ds in sst2) evals=(dev test) ;; *) evals=(test) ;; esac
      for split in "${evals[@]}"; do
        f=$data/$ds/$split.tsv; [ -e "$f" ] || f=$f.gz
        j=$("$exe" eval --model "$out/$ds-bow.safetensors" --model "$cnn" --data "$f" --json)
        acc=$(echo "$j" | field "f\"{d['accuracy']*100:.2f}%\"")
        f1=$(echo "$j" | field "f\"{d['macro_f1']*100:.2f}%\"")
        rate=$(echo "$j" | field "f\"{d['sentences_per_second']:.0f}\"")
        echo "| bow + $(basename "$cnn" .safetensors | sed "s/^$ds-//") | $ds | $split | $acc | $f1 | – | $rate | – |"
      done
      continue
    fi
    if [ "$model" = cnn+imdb-vectors ]; then
      # SST-2's cnn starting from vectors pretrained on IMDB's training reviews (labels unused).
      [ "$ds" = sst2 ] && [ -e "$data/imdb/train.tsv.gz" ] || continue
      "$exe" pretrain --text "$data/imdb/train.tsv.gz" --out "$out/imdb-vectors.safetensors" --epochs 2 --quiet >&2
      args=(--model cnn --init-embeddings "$out/imdb-vectors.safetensors")
    fi
    case $ds in
      chnsenticorp) train=$data/$ds/train.tsv; dev=(--dev "$data/$ds/dev.tsv"); evals=(test) ;;
      sst2) train=$data/$ds/train.tsv; dev=(--dev "$data/$ds/dev.tsv"); evals=(dev test) ;;
      imdb) train=$data/$ds/train.tsv.gz; dev=(); evals=(test) ;;
    esac
    [ -e "$train" ] || { echo "skipping $ds: $train not found" >&2; continue; }
    m=$out/$ds-$model.safetensors
    start=$(date +%s.%N)
    "$exe" train --train "$train" "${dev[@]}" "${args[@]}" --out "$m" --quiet >&2
    secs=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f} s')")
    size=$(du -h "$m" | cut -f1)
    for split in "${evals[@]}"; do
      f=$data/$ds/$split.tsv; [ -e "$f" ] || f=$f.gz
      j=$("$exe" eval --model "$m" --data "$f" --json)
      acc=$(echo "$j" | field "f\"{d['accuracy']*100:.2f}%\"")
      f1=$(echo "$j" | field "f\"{d['macro_f1']*100:.2f}%\"")
      rate=$(echo "$j" | field "f\"{d['sentences_per_second']:.0f}\"")
      echo "| $model | $ds | $split | $acc | $f1 | $secs | $rate | $size |"
    done
  done
done
