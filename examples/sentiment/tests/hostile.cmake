# ember-sentiment run as a careless or hostile user would: an interrupted training, an output
# over an input, a full disk, two runs writing one file at once, a link planted where the demo
# writes, devices and directories as files, and bad input on stdin. Every good file survives,
# every failure says what to fix and exits non-zero.
#   cmake -DEXE=… -DDATA=… -DWORK=… -P hostile.cmake
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

include(${CMAKE_CURRENT_LIST_DIR}/cli_helpers.cmake)

function(expect_same_file path sha)
  file(SHA256 "${path}" now)
  if(NOT now STREQUAL sha)
    message(FATAL_ERROR "${path} was changed")
  endif()
endfunction()

function(expect_no_temporaries dir)
  file(GLOB left "${dir}/.*.tmp-*")
  if(left)
    message(FATAL_ERROR "temporary files left behind: ${left}")
  endif()
endfunction()

set(quick --epochs 2 --dim 8 --buckets 1024 --quiet)
set(model "${WORK}/good.safetensors")
run(TRUE "${EXE}" train --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv" --out "${model}" ${quick})
file(SHA256 "${model}" good_sha)
file(SHA256 "${DATA}/train.tsv" data_sha)

# An output over an input: refused before anything is read or written.
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --out "${DATA}/train.tsv" ${quick})
expect_contains("${ERR}" "would overwrite the input --train")
expect_same_file("${DATA}/train.tsv" "${data_sha}")
file(CREATE_LINK "${DATA}/train.tsv" "${WORK}/link.tsv" SYMBOLIC)
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --out "${WORK}/link.tsv" ${quick})
expect_contains("${ERR}" "would overwrite the input --train")
# The plot would replace the model.
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --out "${WORK}/x.svg" ${quick})
expect_contains("${ERR}" "is also the output --out")

# An interrupted training leaves the model that was there.
run(FALSE timeout -s INT 2 "${EXE}" train --model cnn --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv"
    --out "${model}" --epochs 1000 --patience 1000 --quiet)
expect_same_file("${model}" "${good_sha}")
expect_no_temporaries("${WORK}")

# A full disk (a 64 KiB file size limit; SIGXFSZ ignored so the write fails with EFBIG) at the
# final save: the old model survives, the error says why, no temporary file is left.
# (Lines, not semicolons, separate the shell commands: a semicolon splits a CMake list.)
run(FALSE bash -c "trap '' XFSZ\nulimit -f 64\nexec \"$0\" \"$@\"" "${EXE}" train --train "${DATA}/train.tsv"
    --dev "${DATA}/test.tsv" --out "${model}" --epochs 1 --dim 64 --buckets 4096 --quiet)
expect_contains("${ERR}" "good.safetensors: file too large")
expect_same_file("${model}" "${good_sha}")
expect_no_temporaries("${WORK}")

# Two runs writing one file at once: the file is one run's complete model.
run(TRUE bash -c "\"$0\" \"$@\" --seed 1 & p1=$!\n\"$0\" \"$@\" --seed 2 & p2=$!\nwait $p1 && wait $p2"
    "${EXE}" train --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv" --out "${WORK}/both.safetensors" ${quick})
run(TRUE "${EXE}" predict --model "${WORK}/both.safetensors" "很好")
expect_no_temporaries("${WORK}")

# The demo writes into a fresh private folder: a link planted at the old fixed path is not
# followed, and the victim file survives.
file(WRITE "${WORK}/victim.txt" "precious")
file(MAKE_DIRECTORY "${WORK}/tmp/ember-sentiment-demo")
file(CREATE_LINK "${WORK}/victim.txt" "${WORK}/tmp/ember-sentiment-demo/model.safetensors" SYMBOLIC)
run(TRUE env "TMPDIR=${WORK}/tmp" "${EXE}" demo --quiet)
expect_contains("${OUT}" "${WORK}/tmp/ember-sentiment-demo-")
file(READ "${WORK}/victim.txt" victim)
if(NOT victim STREQUAL "precious")
  message(FATAL_ERROR "the demo wrote through a planted link")
endif()

# Devices, directories and junk where a file is expected: a named error, no hang.
run(FALSE "${EXE}" predict --model /dev/zero "x")
expect_contains("${ERR}" "/dev/zero: is not a regular file")
run(FALSE "${EXE}" predict --model "${WORK}" "x")
expect_contains("${ERR}" "is a directory, not a file")
run(FALSE "${EXE}" predict --model "${DATA}/train.tsv" "x")
expect_contains("${ERR}" "train.tsv: header length")
run(FALSE "${EXE}" eval --model "${model}" --data /dev/zero)
expect_contains("${ERR}" "/dev/zero: is not a regular file")
run(FALSE "${EXE}" eval --model "${model}" --data "${EXE}")
expect_contains("${ERR}" "not a text file (a NUL byte at offset")

# stdin: an endless line is cut at the limit; invalid UTF-8 names the line and the byte.
execute_process(COMMAND "${EXE}" predict --model "${model}" INPUT_FILE /dev/zero RESULT_VARIABLE rc
                OUTPUT_QUIET ERROR_VARIABLE err TIMEOUT 60)
if(rc EQUAL 0)
  message(FATAL_ERROR "predict < /dev/zero should fail")
endif()
expect_contains("${err}" "stdin line 1: longer than 1048576 bytes")
execute_process(COMMAND printf "good\\nab\\377\\n" OUTPUT_FILE "${WORK}/stdin.txt")
execute_process(COMMAND "${EXE}" predict --model "${model}" INPUT_FILE "${WORK}/stdin.txt" RESULT_VARIABLE rc
                OUTPUT_QUIET ERROR_VARIABLE err TIMEOUT 60)
expect_contains("${err}" "stdin line 2: invalid UTF-8 at byte 2 of the line")

# Labels other than 0/1 are reported also in --json output.
file(WRITE "${WORK}/labels.tsv" "label\ttext\n1\tgreat\n2\tmeh\n0\tawful\n")
run(TRUE "${EXE}" eval --model "${model}" --data "${WORK}/labels.tsv" --json)
expect_contains("${OUT}" "\"skipped_rows\":1")
expect_contains("${ERR}" "labels.tsv:3: unknown label '2'")

# Options that cannot train, or would save a file that cannot be loaded back.
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --lr inf --out "${WORK}/inf.safetensors")
expect_contains("${ERR}" "--lr: must be a finite number, got inf")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --batch 9223372036854775808 --out "${WORK}/b.safetensors")
expect_contains("${ERR}" "out of range")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --filters 8 --out "${WORK}/f.safetensors")
expect_contains("${ERR}" "--filters applies to --model cnn only")
file(WRITE "${WORK}/one.tsv" "label\ttext\n1\tgood\n1\tgreat\n1\tfine\n")
run(FALSE "${EXE}" train --train "${WORK}/one.tsv" --dev "${WORK}/one.tsv" --out "${WORK}/one.safetensors" --quiet)
expect_contains("${ERR}" "every training example is positive")
run(FALSE "${EXE}" train --train "${WORK}/one.tsv" --out "${WORK}/one.safetensors" --quiet)
expect_contains("${ERR}" "too few to split every 10th off as a dev set")
expect_same_file("${model}" "${good_sha}")

# Whatever train accepts loads back: options at the ends of their ranges.
run(TRUE "${EXE}" train --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv" --model bow --dim 1 --buckets 0
    --ngrams 8 --weighting tfidf --epochs 1 --batch 1048576 --out "${WORK}/edge_bow.safetensors" --quiet)
run(TRUE "${EXE}" predict --model "${WORK}/edge_bow.safetensors" "很好")
run(TRUE "${EXE}" train --train "${DATA}/train.tsv" --dev "${DATA}/test.tsv" --model cnn --dim 1 --filters 1
    --widths 1 64 --dropout 0.99 --max-len 100000 --embedding-std 100 --epochs 1 --lr 10
    --out "${WORK}/edge_cnn.safetensors" --quiet)
run(TRUE "${EXE}" predict --model "${WORK}/edge_cnn.safetensors" "很好")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --model cnn --widths 3 3 --out "${WORK}/dup.safetensors" --quiet)
expect_contains("${ERR}" "filter width 3 is listed twice")
run(FALSE "${EXE}" train --train "${DATA}/train.tsv" --dim 4096 --buckets 67108864 --out "${WORK}/big.safetensors" --quiet)
expect_contains("${ERR}" "the model would have more than 1073741824 weights")
