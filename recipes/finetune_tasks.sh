#!/usr/bin/env bash
# Real fine-tuning runs on the ready-made tasks (issue 4), then one evaluation of the best dev epoch on each
# task's test file.
#
#   recipes/finetune_tasks.sh OUT_DIR [TASK ...]      (default tasks: hate_speech question_pair korsts kornli_xnli nsmc)
#   MODEL=kobert-mini recipes/finetune_tasks.sh OUT_DIR ...   (start from a pretrained model instead)
#
# Without MODEL: random weights, KoBERT's vocabulary, 4 layers x 192 units x 3 heads, FFN 768 (the kobert-mini
# shape). The training settings are the same either way, so the two sets of figures differ only in the initial
# weights. They were fixed before looking at any test figure; dev sets (held out of train where a set has
# none) pick the best epoch.
set -euo pipefail
out=${1:?usage: recipes/finetune_tasks.sh OUT_DIR [TASK ...]}
shift || true
tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(hate_speech question_pair korsts kornli_xnli nsmc)
data=${KOBERT_DATA:-../shared/data}
if [ -n "${MODEL:-}" ]; then model=(--model "$MODEL")
else model=(--from-scratch --num-layers 4 --units 192 --hidden-size 768 --num-heads 3); fi
mkdir -p "$out"
for task in "${tasks[@]}"; do
  case $task in
    nsmc)          extra=(--epochs 2 --max-seq-length 64 --batch-size 64 --lr 5e-4) ; test=nsmc/ratings_test.txt ;;
    hate_speech)   extra=(--epochs 5 --max-seq-length 64 --batch-size 32 --lr 5e-4) ; test=korean_hate_speech/dev.tsv ;;
    question_pair) extra=(--epochs 5 --max-seq-length 64 --batch-size 32 --lr 5e-4) ; test=question_pair/test.txt ;;
    korsts)        extra=(--epochs 5 --max-seq-length 128 --batch-size 32 --lr 5e-4) ; test=korsts/sts-test.tsv ;;
    kornli_xnli)   extra=(--epochs 5 --max-seq-length 128 --batch-size 32 --lr 5e-4) ; test=kornli/xnli.test.ko.tsv ;;
    *) echo "unknown task $task" >&2; exit 2 ;;
  esac
  start=$(date +%s)
  kobert-gluon finetune --task "$task" --data-dir "$data" "${model[@]}" "${extra[@]}" --warmup-ratio 0.1 \
    --seed 1 --no-progress --out "$out/$task" --overwrite
  kobert-gluon evaluate --model "$out/$task" --data "$data/$test" --json > "$out/$task/test_metrics.json"
  echo "$task: $(( $(date +%s) - start )) s; test: $(cat "$out/$task/test_metrics.json" | tr -d '\n')"
done
