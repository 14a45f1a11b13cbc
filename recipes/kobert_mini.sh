#!/usr/bin/env bash
# The whole kobert-mini recipe, from NSMC's CC0 review text to the two models shipped in the package:
#
#   recipes/kobert_mini.sh WORK_DIR [--package]
#
#   1. build-vocab              SentencePiece + BERTVocab (8,002 tokens, KoBERT layout) on NSMC train reviews
#   2. create-pretraining-data  MLM + NSP instances (max length 128, dupe factor 5)
#   3. pretrain                 4 layers x 192 units x 3 heads, FFN 768; 10,000 steps of 64 -> kobert-mini
#   4. finetune                 NSMC sentiment from kobert-mini (dev: 5 % of train held out) -> kobert-mini-nsmc
#   5. the same fine-tuning from random weights (same architecture and vocabulary): what pretraining added
#   6. evaluate both on the NSMC test set (50k reviews; used for these final figures only)
#   7. with --package: write both models, fp16, with model cards, into kobert_gluon/shipped_models/
#
# Only NSMC's training file is read before step 6, so the test reviews never reach the vocabulary, the
# pretraining data or model selection. On the 2-core development machine steps 1-2 take ~1 min, step 3 ~50 min
# and steps 4-5 ~20 min each (one thread each; OMP_NUM_THREADS=1 is set because two threads were slower
# whenever anything else ran).
set -euo pipefail
work=${1:?usage: recipes/kobert_mini.sh WORK_DIR [--package]}
package=${2:-}
data=${KOBERT_DATA:-../shared/data}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$work"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
timed() { local name=$1; shift; local start; start=$(date +%s); "$@"; echo "$(( $(date +%s) - start ))" > "$work/$name.seconds"; }

[ -f "$work/vocab/vocab.json" ] || { log "1. vocabulary"; timed vocab kobert-gluon build-vocab \
  --corpus "$data/nsmc/ratings_train.txt" --column document --size 8000 --out "$work/vocab" --threads 2; }

[ -f "$work/pretrain-data/manifest.json" ] || { log "2. pretraining data"; timed pretrain-data \
  kobert-gluon create-pretraining-data --input "$data/nsmc/ratings_train.txt" --column document \
  --input-format lines --vocab "$work/vocab" --out "$work/pretrain-data" --max-seq-length 128 \
  --max-predictions-per-seq 20 --masked-lm-prob 0.15 --dupe-factor 5 --random-seed 12345 --workers 2; }

pretrain_args=(--data "$work/pretrain-data" --vocab "$work/vocab" --from-scratch --num-layers 4 --units 192
  --num-heads 3 --hidden-size 768 --max-length 128 --batch-size 64 --max-steps 10000 --lr 5e-4
  --warmup-ratio 0.02 --eval-every 1000 --max-dev-instances 4000 --checkpoint-every 1000 --log-every 250
  --param-dtype float16 --seed 1 --no-progress --out "$work/pretrain")
if [ ! -f "$work/pretrain/best/config.json" ] || [ -f "$work/pretrain/checkpoint.pkl" -a ! -f "$work/pretrain.seconds" ]; then
  log "3. pretraining (resumes if interrupted)"
  if [ -f "$work/pretrain/run.json" ]; then timed pretrain kobert-gluon pretrain "${pretrain_args[@]}" --resume
  else timed pretrain kobert-gluon pretrain "${pretrain_args[@]}"; fi
fi

finetune_args=(--task nsmc --data-dir "$data" --max-seq-length 64 --batch-size 64 --epochs 2 --lr 3e-4
  --warmup-ratio 0.1 --seed 1 --no-progress)
for run in nsmc nsmc-scratch; do
  [ -f "$work/$run/test_metrics.json" ] && continue
  scratch=(); [ "$run" = nsmc-scratch ] && scratch=(--from-scratch)
  log "4/5. fine-tuning $run"
  timed "$run" kobert-gluon finetune "${finetune_args[@]}" --model "$work/pretrain/best" "${scratch[@]}" \
    --out "$work/$run" --overwrite
  log "6. test set: $run"
  kobert-gluon evaluate --model "$work/$run" --data "$data/nsmc/ratings_test.txt" --json > "$work/$run/test_metrics.json"
done

if [ "$package" = --package ]; then
  log "7. packaging into kobert_gluon/shipped_models"
  python "$(dirname "$0")/package_mini.py" "$work" --out "$(dirname "$0")/../kobert_gluon/shipped_models"
fi
log "done: $work"
