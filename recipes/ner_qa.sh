#!/usr/bin/env bash
# Named entities (KLUE-NER) and extractive QA (KorQuAD 1.0) from kobert-mini on these 2 cores, and the figures in the
# README's "Named entities and question answering" section:
#
#   recipes/ner_qa.sh WORK_DIR
#
#   1. klue_ner from kobert-mini, and the same architecture from random weights: KLUE-NER's dev set (the only
#      part here) split 80/10/10 by a hash of the sentence (FILE#train / #dev / #test); best epoch on #dev
#   2. korquad from kobert-mini: KorQuAD 1.0's dev set split 80/10/10 by article; 128-piece windows (kobert-mini's
#      position table); best epoch on #dev
#   3. each model once on its #test part (for QA with and without particle stripping), and score-qa on the answers
#
# KorQuAD's licence (CC BY-ND 2.0 KR) allows measuring, not shipping a model trained on it: nothing here is packaged.
#
# Outcome on the 2-core development machine (one thread per run, other jobs sharing the machine): KLUE-NER test
# entity F1 58.2 from kobert-mini (446 s) and 41.0 from scratch (412 s); KorQuAD test EM / F1 3.2 / 12.1 from
# kobert-mini (2,998 s), 3.4 / 12.1 with Mecab particle stripping (--strip-particles: Mecab when installed).
set -euo pipefail
work=${1:?usage: recipes/ner_qa.sh WORK_DIR}
data=${KOBERT_DATA:-../shared/data}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$work"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
timed() { local name=$1; shift; local start; start=$(date +%s); "$@"; echo "$(( $(date +%s) - start ))" > "$work/$name.seconds"; }

ner_args=(--task klue_ner --data-dir "$data" --max-seq-length 128 --batch-size 32 --epochs 10 --lr 5e-4
  --warmup-ratio 0.1 --seed 1 --no-progress)
for run in ner-mini ner-scratch; do
  [ -f "$work/$run.test.json" ] && continue
  scratch=(); [ "$run" = ner-scratch ] && scratch=(--from-scratch)
  log "1. $run"
  timed "$run" kobert-gluon finetune "${ner_args[@]}" --model kobert-mini "${scratch[@]}" --out "$work/$run" --overwrite
  kobert-gluon evaluate --model "$work/$run" --data "$data/klue_ner/klue-ner-v1.1_dev.tsv#test" --json > "$work/$run.test.json"
done

if [ ! -f "$work/qa-mini.test.json" ]; then
  log "2. qa-mini"
  timed qa-mini kobert-gluon finetune --task korquad --data-dir "$data" --model kobert-mini --max-seq-length 128 \
    --batch-size 32 --epochs 3 --lr 5e-4 --warmup-ratio 0.1 --seed 1 --no-progress --out "$work/qa-mini" --overwrite
  log "3. test part"
  kobert-gluon evaluate --model "$work/qa-mini" --data "$data/korquad_v1/KorQuAD_v1.0_dev.json#test" --json \
    > "$work/qa-mini.test.json"
  for strip in "" --strip-particles; do
    name=answers${strip:+-stripped}
    kobert-gluon predict --model "$work/qa-mini" --input "$data/korquad_v1/KorQuAD_v1.0_dev.json#test" $strip \
      --output "$work/$name.json"
    kobert-gluon score-qa "$data/korquad_v1/KorQuAD_v1.0_dev.json#test" "$work/$name.json" > "$work/$name.score.json"
  done
fi
cat "$work"/*.test.json "$work"/*.score.json
