#!/usr/bin/env bash
# Side by side in one run (issue 15): native before a change (a built copy of an older checkout: its dist/ and
# native/blas/build) vs native now vs PyTorch at 1 and 2 threads: the forward, then the LoRA training step.
# Every line carries load1 and every command is preceded by a note with the date and `uptime`; ratios only mean
# something within one run.
#   BEFORE=/path/to/old-checkout bash bench/core/fuse-compare.sh [out.jsonl]
# Env: SHAPES ("1x64 4x128"), LAYERS (28; fewer layers only shortens the forward, lm_head then weighs more),
# REPS (timed runs after one warm-up, 1), TRAIN_SEQ (64: 4 x 512 takes many minutes per step under load),
# PARTS ("forward train").
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
before="${BEFORE:?set BEFORE to a built older checkout}"
out="${1:-bench/core/fuse-results.jsonl}"
shapes="${SHAPES:-1x64 4x128}"
layers="${LAYERS:-28}"
reps="${REPS:-1}"
train_seq="${TRAIN_SEQ:-64}"
parts="${PARTS:-forward train}"
py=/usr/bin/python3
log() { echo "{\"bench\":\"note\",\"date\":\"$(date -u +%FT%TZ)\",\"uptime\":\"$(uptime | sed 's/.*load/load/')\",\"what\":\"$1\"}" | tee -a "$out"; }
run() {  # label, command...
  local label="$1"; shift
  log "start $label"
  nice -n 10 "$@" 2>/dev/null | grep '^{' | sed "s/^{/{\"run\":\"$label\",/" | tee -a "$out"
}
if [[ " $parts " == *" forward "* ]]; then
  for shape in $shapes; do
    b="${shape%x*}" s="${shape#*x}"
    run "torch-1" "$py" bench/core/torch_reference.py forward --batch "$b" --seq "$s" --layers "$layers" --threads 1 --reps "$reps"
    run "torch-2" "$py" bench/core/torch_reference.py forward --batch "$b" --seq "$s" --layers "$layers" --threads 2 --reps "$reps"
    run "native-before" node "$before/dist/bench/core/model-forward.js" --backend native --batch "$b" --seq "$s" --layers "$layers" --reps "$reps"
    run "native-after" node dist/bench/core/model-forward.js --backend native --batch "$b" --seq "$s" --layers "$layers" --reps "$reps"
  done
fi
if [[ " $parts " == *" train "* ]]; then
  run "torch-lora-1" "$py" bench/training/torch_lora_step.py --batch 4 --seq "$train_seq" --threads 1 --reps "$reps"
  run "torch-lora-2" "$py" bench/training/torch_lora_step.py --batch 4 --seq "$train_seq" --threads 2 --reps "$reps"
  run "native-before-lora" node "$before/dist/bench/training/train-step.js" --child lora --backend native --batch 4 --seq "$train_seq" --reps "$reps"
  run "native-after-lora" node dist/bench/training/train-step.js --child lora --backend native --batch 4 --seq "$train_seq" --reps "$reps"
fi
log "end"
