#!/usr/bin/env bash
# Issue 15's "done when" ratios, side by side in one run: the Qwen3-0.6B-shape forward (PyTorch at every thread
# count vs native, interleaved rounds), the model's GEMM shapes (numpy's OpenBLAS sgemm vs native), and one
# training step per adapter type (PyTorch's LoRA step at every thread count vs native). Every line carries the
# round, and a note with the date and `uptime` precedes every command; parity-table.ts renders the tables with
# each row's ratio to PyTorch's best setting in the same run.
#   bash bench/core/parity.sh [out.jsonl]     (then: node dist/bench/core/parity-table.js out.jsonl)
# Env: ROUNDS (2), SHAPES ("1x64 4x128"), TRAIN_SEQ (512), ADAPTERS ("lora dora pissa delora oft ia3"),
#      TORCH_THREADS (1..nproc), PARTS ("forward gemm train").
# Needs: npm run build, the native addon, and apt-get install python3-torch python3-numpy libopenblas0-pthread.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-bench/core/parity-results.jsonl}"
rounds="${ROUNDS:-2}"
shapes="${SHAPES:-1x64 4x128}"
train_seq="${TRAIN_SEQ:-512}"
adapters="${ADAPTERS:-lora dora pissa delora oft ia3}"
torch_threads="${TORCH_THREADS:-$(seq -s ' ' 1 "$(nproc)")}"
parts="${PARTS:-forward gemm train}"
py=/usr/bin/python3
: >"$out"
printf '{"bench":"machine","date":"%s","cpu":"%s, %s cores","node":"%s","uptime":"%s"}\n' "$(date -u +%FT%TZ)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$(node --version)" "$(uptime | sed 's/.*load/load/')" >>"$out"
note() { printf '{"bench":"note","date":"%s","uptime":"%s","what":"%s"}\n' "$(date -u +%FT%TZ)" "$(uptime | sed 's/.*load/load/')" "$1" >>"$out"; }
run() {  # label round command...
  local label="$1" round="$2"; shift 2
  note "start $label round $round"
  echo "+ [$label r$round] $*" >&2
  "$@" 2>/dev/null | grep '^{' | sed "s/^{/{\"run\":\"$label\",\"round\":$round,/" >>"$out" || echo "  (failed: $label)" >&2
}
for r in $(seq 1 "$rounds"); do
  if [[ " $parts " == *" forward "* ]]; then
    for shape in $shapes; do
      b="${shape%x*}" s="${shape#*x}"
      for t in $torch_threads; do run "pytorch ($t thr)" "$r" "$py" bench/core/torch_reference.py forward --batch "$b" --seq "$s" --threads "$t" --reps 2; done
      run native "$r" node dist/bench/core/model-forward.js --backend native --batch "$b" --seq "$s" --reps 2
    done
  fi
  if [[ " $parts " == *" gemm "* ]]; then
    run numpy "$r" "$py" bench/core/sgemm_numpy.py
    run native "$r" node dist/bench/core/gemm-bench.js --backends native
  fi
done
if [[ " $parts " == *" train "* ]]; then
  # one round: a 4 x 512 step takes minutes; each command times one step after a warm-up step
  for t in $torch_threads; do run "pytorch ($t thr)" 1 "$py" bench/training/torch_lora_step.py --batch 4 --seq "$train_seq" --threads "$t" --reps 1; done
  for a in $adapters; do run native 1 node dist/bench/training/train-step.js --child "$a" --backend native --batch 4 --seq "$train_seq" --reps 1; done
fi
note end
echo "wrote $out" >&2
