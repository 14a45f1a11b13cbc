#!/usr/bin/env bash
# Distillation, end to end, at kobert-mini's size: what the DistilBERT recipe buys against plain training.
#
#   recipes/distil_mini.sh WORK_DIR [STEPS]
#
#   1. create-pretraining-data  NSMC train reviews with kobert-mini's vocabulary (max length 128, dupe factor 5)
#   2. distill                  kobert-mini (4 layers) -> a 2-layer DistilBERT student (teacher layers 0 and 2),
#                               T = 2, alpha 0.33 each, STEPS steps of 64 (default 2000)
#   3. the same student, same start, same steps, masked-LM loss only (alpha_ce = alpha_cos = 0): no distillation
#   4. finetune both on NSMC (kobert-mini-nsmc's recipe: 2 epochs, batch 64, length 64, lr 3e-4, dev 5 % of train)
#   5. evaluate both on the NSMC test set (50k reviews; for these final figures only), MXNet and OpenVINO int8
#
# kobert-mini-nsmc (the teacher's own fine-tuning, shipped) is the reference: 86.44 % test accuracy.
set -euo pipefail
work=${1:?usage: recipes/distil_mini.sh WORK_DIR [STEPS]}
steps=${2:-2000}
data=${KOBERT_DATA:-../shared/data}
mkdir -p "$work"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
timed() { local name=$1; shift; local start; start=$(date +%s); "$@"; echo "$(( $(date +%s) - start ))" > "$work/$name.seconds"; }

[ -f "$work/pretrain-data/manifest.json" ] || { log "1. pretraining data"; timed pretrain-data \
  kobert-gluon create-pretraining-data --input "$data/nsmc/ratings_train.txt" --column document \
  --input-format lines --vocab kobert-mini --out "$work/pretrain-data" --max-seq-length 128 \
  --max-predictions-per-seq 20 --masked-lm-prob 0.15 --dupe-factor 5 --random-seed 12345 --workers 2; }

common=(--data "$work/pretrain-data" --teacher kobert-mini --student-layers 2 --student-architecture distilbert
  --batch-size 64 --max-steps "$steps" --lr 5e-4 --warmup-ratio 0.02 --eval-every 500 --max-dev-instances 4000
  --checkpoint-every 500 --log-every 250 --seed 1 --no-progress)
for run in distil mlm-only; do
  [ -f "$work/$run/best/config.json" ] && [ -f "$work/$run.seconds" ] && continue
  alphas=(); [ "$run" = mlm-only ] && alphas=(--alpha-ce 0 --alpha-mlm 1 --alpha-cos 0)
  log "2/3. $run"
  if [ -f "$work/$run/run.json" ]; then timed "$run" kobert-gluon distill "${common[@]}" "${alphas[@]}" --out "$work/$run" --resume
  else timed "$run" kobert-gluon distill "${common[@]}" "${alphas[@]}" --out "$work/$run"; fi
done

finetune_args=(--task nsmc --data-dir "$data" --max-seq-length 64 --batch-size 64 --epochs 2 --lr 3e-4
  --warmup-ratio 0.1 --seed 1 --no-progress)
for run in distil mlm-only; do
  [ -f "$work/$run-nsmc/test_metrics.json" ] && continue
  log "4. fine-tuning $run"
  timed "$run-nsmc" kobert-gluon finetune "${finetune_args[@]}" --model "$work/$run/best" --out "$work/$run-nsmc" --overwrite
  log "5. test set: $run"
  kobert-gluon evaluate --model "$work/$run-nsmc" --data "$data/nsmc/ratings_test.txt" --task nsmc --json \
    > "$work/$run-nsmc/test_metrics.json"
done
log "done: $work"
