# Runs ember-sentiment as a user would and checks what it prints.
#   cmake -DEXE=… -DDATA=… -DWORK=… -P cli.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

foreach(sub demo train eval predict pretrain vocab)
  run(TRUE "${EXE}" ${sub} --help)
  expect_contains("${OUT}" "Usage")
endforeach()

set(model "${WORK}/m.safetensors")
run(TRUE "${EXE}" train --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv" --model bow
    --out "${model}" --epochs 6 --lr 0.02 --dim 16 --buckets 4096 --subwords on --quiet)
expect_contains("${OUT}" "best dev accuracy")
foreach(f m.safetensors m.metrics.csv m.svg)
  if(NOT EXISTS "${WORK}/${f}")
    message(FATAL_ERROR "train did not write ${f}")
  endif()
endforeach()
file(READ "${WORK}/m.metrics.csv" csv)
expect_contains("${csv}" "epoch,train_loss,dev_accuracy,dev_macro_f1,seconds\n1,")
file(READ "${WORK}/m.svg" svg)
expect_contains("${svg}" "<svg")

run(TRUE "${EXE}" predict --model "${model}" --json "这家酒店的服务很好,房间也很干净。")
expect_contains("${OUT}" "\"label\":\"positive\"")
expect_contains("${OUT}" "\"probabilities\"")

run(TRUE "${EXE}" eval --model "${model}" --data "${DATA}/test.tsv" --json)
foreach(key accuracy macro_f1 "\"n\"" confusion)
  expect_contains("${OUT}" "${key}")
endforeach()
run(TRUE "${EXE}" eval --model "${model}" --data "${DATA}/test.tsv")
expect_contains("${OUT}" "confusion (rows: true, columns: predicted)")

# Pretraining on unlabelled lines, then a cnn that starts from the vectors.
file(READ "${DATA}/train.tsv" raw)
string(REGEX REPLACE "^label\ttext\n" "" raw "${raw}")
string(REGEX REPLACE "(^|\n)[01]\t" "\\1" raw "${raw}")
file(WRITE "${WORK}/raw.txt" "${raw}")
run(TRUE "${EXE}" pretrain --text "${WORK}/raw.txt" --format text --out "${WORK}/v.safetensors"
    --dim 16 --epochs 1 --quiet)
expect_contains("${OUT}" "vectors of width 16 from 527 texts")
run(TRUE "${EXE}" train --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv" --model cnn
    --init-embeddings "${WORK}/v.safetensors" --filters 8 --epochs 1 --out "${WORK}/c.safetensors")
expect_contains("${ERR}" "pretrained vectors for")
run(TRUE "${EXE}" predict --model "${WORK}/c.safetensors" "很好")
# Two models as one ensemble: one line per text (the text is not taken for a third model).
run(TRUE "${EXE}" predict --model "${model}" --model "${WORK}/c.safetensors" --json "很好")
string(REGEX MATCHALL "\"label\"" lines "${OUT}")
list(LENGTH lines n_lines)
if(NOT n_lines EQUAL 1)
  message(FATAL_ERROR "expected one prediction from the ensemble, got:\n${OUT}")
endif()
run(TRUE "${EXE}" eval --model "${model}" --model "${WORK}/c.safetensors" --data "${DATA}/test.tsv" --json)
expect_contains("${OUT}" "\"n\":131")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --model cnn --dim 32
    --init-embeddings "${WORK}/v.safetensors" --out "${WORK}/c2.safetensors" --quiet)
expect_contains("${ERR}" "pretrained vectors have 16 dimensions, the model's embedding 32")

# The transformer end to end: a vocabulary, MLM pretraining with a resume, fine-tuning from the
# encoder, predict and eval. Tiny sizes: this checks the wiring, not the accuracy.
run(TRUE "${EXE}" vocab --text "${WORK}/raw.txt" --out "${WORK}/vocab.safetensors" --size 1000)
expect_contains("${OUT}" "pieces per character")
set(mlm pretrain --objective mlm --text "${WORK}/raw.txt" --format text --out "${WORK}/enc.safetensors"
    --dim 32 --layers 1 --heads 2 --ffn 64 --max-len 32 --batch 8 --steps 12 --held-back 16 --eval-every 6)
run(TRUE "${EXE}" ${mlm} --vocab "${WORK}/vocab.safetensors" --max-minutes 0.000001)
expect_contains("${OUT}" "stopped at the time budget at step")
expect_contains("${OUT}" "--resume")
run(TRUE "${EXE}" ${mlm} --resume)
expect_contains("${ERR}" "resuming")
expect_contains("${ERR}" "masked-token accuracy")
expect_contains("${OUT}" "finished at step 12 of 12")
# A resume keeps the checkpoint's run: settings left out are its own, one given anew must agree.
run(FALSE "${EXE}" ${mlm} --resume --lr 1e-3)
expect_contains("${ERR}" "the checkpoint's run has --lr 0.0005, this one 0.001")
run(FALSE "${EXE}" pretrain --objective mlm --text "${WORK}/raw.txt" --format text --out "${WORK}/enc.safetensors"
    --layers 2 --resume)
expect_contains("${ERR}" "--layers 2 differs from the checkpoint's 1")
run(TRUE "${EXE}" pretrain --objective mlm --text "${WORK}/raw.txt" --format text --out "${WORK}/enc.safetensors"
    --resume)
expect_contains("${OUT}" "finished at step 12 of 12")
run(FALSE "${EXE}" ${mlm} --resume --vocab "${WORK}/vocab.safetensors")
expect_contains("${ERR}" "--vocab cannot be given with it")
run(FALSE "${EXE}" ${mlm} --resume --vocab-size 500)
expect_contains("${ERR}" "--vocab-size cannot be given with it")
run(FALSE "${EXE}" ${mlm} --reschedule)
expect_contains("${ERR}" "--reschedule changes a resumed run's length")
# --init: a new run from the encoder on another text (here the labelled set, labels ignored).
run(TRUE "${EXE}" pretrain --objective mlm --init "${WORK}/enc.safetensors" --text "${DATA}/train.tsv"
    --out "${WORK}/enc2.safetensors" --batch 8 --steps 5 --held-back 8 --eval-every 5)
expect_contains("${ERR}" "a new run from ${WORK}/enc.safetensors")
expect_contains("${OUT}" "finished at step 5 of 5")
run(FALSE "${EXE}" ${mlm} --init "${WORK}/enc.safetensors" --resume)
expect_contains("${ERR}" "give one of them")
run(FALSE "${EXE}" pretrain --objective mlm --init "${WORK}/enc.safetensors" --text "${DATA}/train.tsv"
    --vocab "${WORK}/vocab.safetensors" --out "${WORK}/enc3.safetensors")
expect_contains("${ERR}" "--vocab cannot be given with --init")
run(FALSE "${EXE}" pretrain --objective mlm --init "${WORK}/enc.safetensors" --text "${DATA}/train.tsv"
    --ffn 128 --out "${WORK}/enc3.safetensors")
expect_contains("${ERR}" "--ffn 128 differs from the encoder's 64")
run(FALSE "${EXE}" pretrain --objective mlm --init "${WORK}/enc.safetensors" --text "${DATA}/train.tsv"
    --out "${WORK}/enc.safetensors")
expect_contains("${ERR}" "would overwrite the input --init")
run(FALSE "${EXE}" pretrain --init "${WORK}/enc.safetensors" --text "${DATA}/train.tsv" --out "${WORK}/v3.safetensors")
expect_contains("${ERR}" "--init applies to --objective mlm only")
run(FALSE "${EXE}" pretrain --objective mlm --text "${WORK}/raw.txt" --format text --window 3 --out "${WORK}/x.safetensors")
expect_contains("${ERR}" "--window applies to --objective skipgram only")
run(TRUE "${EXE}" train --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv" --model transformer
    --init "${WORK}/enc.safetensors" --epochs 1 --out "${WORK}/t.safetensors")
expect_contains("${ERR}" "encoder pretrained for 12 steps")
run(TRUE "${EXE}" predict --model "${WORK}/t.safetensors" --json "很好")
expect_contains("${OUT}" "\"label\"")
# average: a second fine-tune of the same encoder, and the mean of the two (a model soup).
# (stored as bf16: the dev accuracy it prints and records is the file's, as eval measures it)
run(TRUE "${EXE}" train --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv" --model transformer
    --init "${WORK}/enc.safetensors" --epochs 1 --seed 2 --quiet --save-dtype bf16 --out "${WORK}/t-seed2.safetensors")
if(NOT OUT MATCHES "dev accuracy ([0-9.]+)% as the file stores the weights \\(bf16 matrices\\)")
  message(FATAL_ERROR "train --save-dtype bf16 did not print the file's dev accuracy:\n${OUT}")
endif()
set(file_accuracy "${CMAKE_MATCH_1}")
run(TRUE "${EXE}" eval --model "${WORK}/t-seed2.safetensors" --data "${DATA}/test.tsv")
expect_contains("${OUT}" "accuracy ${file_accuracy}%")
run(TRUE "${EXE}" average --model "${WORK}/t.safetensors" --model "${WORK}/t-seed2.safetensors"
    --dev "${DATA}/test.tsv" --out "${WORK}/soup.safetensors")
expect_contains("${OUT}" "average of 2 models: dev accuracy")
expect_contains("${OUT}" "wrote ${WORK}/soup.safetensors (the mean of t.safetensors, t-seed2.safetensors)")
run(TRUE "${EXE}" average --model "${WORK}/t.safetensors" --model "${WORK}/t-seed2.safetensors"
    --dev "${DATA}/test.tsv" --greedy --save-dtype bf16 --out "${WORK}/greedy.safetensors")
expect_contains("${OUT}" "soup of 2: dev accuracy")
run(TRUE "${EXE}" eval --model "${WORK}/soup.safetensors" --data "${DATA}/test.tsv")
expect_contains("${OUT}" "accuracy")
run(FALSE "${EXE}" average --model "${WORK}/t.safetensors" --model "${model}" --out "${WORK}/x.safetensors")
expect_contains("${ERR}" "are models of two kinds (transformer and bow)")
run(FALSE "${EXE}" average --model "${WORK}/t.safetensors" --out "${WORK}/x.safetensors")
expect_contains("${ERR}" "average: give at least two --model files (got 1; one with --long-text re-saves")
# One model with --long-text: the same weights, read as windows.
run(TRUE "${EXE}" average --model "${WORK}/t.safetensors" --long-text windows --out "${WORK}/t-windows.safetensors" --quiet)
run(TRUE "${EXE}" eval --model "${WORK}/t-windows.safetensors" --data "${DATA}/test.tsv" --long-text head --json)
string(STRIP "${OUT}" windows_as_head)
run(TRUE "${EXE}" eval --model "${WORK}/t.safetensors" --data "${DATA}/test.tsv" --json)
string(STRIP "${OUT}" plain)
string(REGEX REPLACE "\"sentences_per_second\":[^,}]*" "" windows_as_head "${windows_as_head}")
string(REGEX REPLACE "\"sentences_per_second\":[^,}]*" "" plain "${plain}")
if(NOT windows_as_head STREQUAL plain)
  message(FATAL_ERROR "average --long-text changed the weights:\n${windows_as_head}\n${plain}")
endif()
run(FALSE "${EXE}" average --model "${WORK}/t.safetensors" --model "${WORK}/t-seed2.safetensors" --greedy
    --out "${WORK}/x.safetensors")
expect_contains("${ERR}" "--greedy chooses models by their accuracy on --dev: give --dev")
run(FALSE "${EXE}" average --model "${WORK}/t.safetensors" --model "${WORK}/t-seed2.safetensors"
    --out "${WORK}/t-seed2.safetensors")
expect_contains("${ERR}" "would overwrite the input --model")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --model transformer --init "${WORK}/enc.safetensors"
    --layers 3 --out "${WORK}/t2.safetensors")
expect_contains("${ERR}" "--layers 3 differs from the encoder's 1")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --model bow --layers 3 --out "${WORK}/t2.safetensors")
expect_contains("${ERR}" "--layers applies to --model transformer only")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --model transformer --init "${model}" --out "${WORK}/t2.safetensors")
expect_contains("${ERR}" "is not an encoder checkpoint")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --model bow --long-text windows --out "${WORK}/t2.safetensors")
expect_contains("${ERR}" "--long-text applies to --model transformer only")
# --long-text on eval and predict reads the file's model another way; a bag cannot read windows.
run(TRUE "${EXE}" eval --model "${WORK}/t.safetensors" --data "${DATA}/test.tsv" --long-text windows --json)
expect_contains("${OUT}" "accuracy")
run(FALSE "${EXE}" eval --model "${model}" --data "${DATA}/test.tsv" --long-text windows)
expect_contains("${ERR}" "--long-text windows (${model}): long_text 'windows' is for models of SentencePiece ids (the transformer), not bow")
run(FALSE "${EXE}" predict --model "${WORK}/t.safetensors" --long-text tail "x")
expect_contains("${ERR}" "--long-text")

# predict without --model: the shipped model of each text's script (here a folder of our own).
file(MAKE_DIRECTORY "${WORK}/shipped")
run(FALSE "${EXE}" predict --models-dir "${WORK}/shipped" "很好")
expect_contains("${ERR}" "no shipped zh model at ${WORK}/shipped/zh.safetensors")
file(COPY_FILE "${WORK}/t.safetensors" "${WORK}/shipped/zh.safetensors")
file(COPY_FILE "${model}" "${WORK}/shipped/en.safetensors")
run(TRUE "${EXE}" predict --models-dir "${WORK}/shipped" --json "很好" "good" "服务很好 good")
string(REGEX MATCHALL "\"label\"" lines "${OUT}")
list(LENGTH lines n_lines)
if(NOT n_lines EQUAL 3)
  message(FATAL_ERROR "expected three predictions, got:\n${OUT}")
endif()
# Each text went to its script's model: the English one is the bag model's answer for "good".
run(TRUE "${EXE}" predict --model "${model}" --json "good")
string(STRIP "${OUT}" bag_good)
run(TRUE "${EXE}" predict --models-dir "${WORK}/shipped" --json "good")
string(STRIP "${OUT}" shipped_good)
if(NOT bag_good STREQUAL shipped_good)
  message(FATAL_ERROR "the English text did not go to en.safetensors:\n${bag_good}\n${shipped_good}")
endif()
# demo: the live run, then the shipped models' predictions (none: says so).
run(TRUE "${EXE}" demo --quiet --models-dir "${WORK}/shipped")
expect_contains("${OUT}" "predictions of the model just trained")
expect_contains("${OUT}" "predictions of the shipped models (${WORK}/shipped")
file(MAKE_DIRECTORY "${WORK}/no-models")
run(TRUE "${EXE}" demo --quiet --models-dir "${WORK}/no-models")
expect_contains("${OUT}" "(no shipped models in ${WORK}/no-models)")

run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --model bow
    --init-embeddings "${WORK}/v.safetensors" --out "${WORK}/c3.safetensors" --quiet)
expect_contains("${ERR}" "--init-embeddings applies to --model cnn only")

# Errors: clear messages and a non-zero exit, never a crash.
run(FALSE "${EXE}" predict --model "${WORK}/missing.safetensors" "x")
expect_contains("${ERR}" "ember-sentiment:")
file(WRITE "${WORK}/bad.tsv" "label\ttext\n1\tfine\n9\toops\n")
run(FALSE "${EXE}" train --train "${WORK}/bad.tsv" --strict --out "${WORK}/b.safetensors")
expect_contains("${ERR}" "bad.tsv:3: unknown label '9'")
foreach(bad "--batch;0" "--epochs;0" "--dim;-3" "--weight-decay;-1")
  run(FALSE "${EXE}" train --train "${DATA}/train.tsv" ${bad} --out "${WORK}/bad.safetensors" --quiet)
  list(GET bad 0 flag)
  expect_contains("${ERR}" "${flag}")
endforeach()
run(FALSE "${EXE}" train --model lstm --train "${DATA}/train.tsv")
