#!/usr/bin/env bash
# Issue 15's "done when" ratios, side by side in one run: the Qwen3-0.6B-shape forward (PyTorch at every thread
# count vs native, interleaved rounds), the model's GEMM shapes (numpy's OpenBLAS sgemm vs native), and one
# training step per adapter type (PyTorch's LoRA step at every thread count vs native). Every line carries the
# round, and a note with the date and `uptime` precedes every command; parity-table.ts renders the tables with
# each row's ratio to PyTorch's best setting in the same run.
#   bash bench/core/parity.sh [out.jsonl]     (then: node dist/bench/core/parity-table.js out.jsonl)
# Env: ROUNDS (2), SHAPES ("1x64 4x128"), TRAIN_SEQ (512), ADAPTERS ("lora dora pissa delora oft ia3"),
#      TRAIN_ROUNDS (1: interleaved rounds of the training commands, each one warm-up and one timed step),
#      TORCH_THREADS (1..nproc), PARTS ("forward gemm train"), GEMM_TOKENS ("64,512"),
#      GEMM_ARGS ("--transpose-b": the weight [N, K] as the model calls it, and native then multiplies through the
#      model's own linear op, gemm-bench.js --linear; "" for [K, N] through matMul),
#      BEFORE (a built older checkout, e.g. /work/main: adds "native-before" rows, its model-forward.js for the
#      forward and its addon under this checkout's gemm-bench.js through WSFLOW_NATIVE_ADDON for the GEMMs;
#      its train-step.js for the adapters in BEFORE_ADAPTERS ("lora")).
# Needs: npm run build, the native addon, and apt-get install python3-torch python3-numpy libopenblas0-pthread.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out="${1:-bench/core/parity-results.jsonl}"
rounds="${ROUNDS:-2}"
shapes="${SHAPES:-1x64 4x128}"
train_seq="${TRAIN_SEQ:-512}"
train_rounds="${TRAIN_ROUNDS:-1}"
adapters="${ADAPTERS:-lora dora pissa delora oft ia3}"
torch_threads="${TORCH_THREADS:-$(seq -s ' ' 1 "$(nproc)")}"
parts="${PARTS:-forward gemm train}"
gemm_tokens="${GEMM_TOKENS:-64,512}"
gemm_args="${GEMM_ARGS---transpose-b}"
before="${BEFORE:-}"
before_adapters="${BEFORE_ADAPTERS:-lora}"
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
      if [[ -n $before ]]; then
        run native-before "$r" node "$before/dist/bench/core/model-forward.js" --backend native --batch "$b" --seq "$s" --reps 2
      fi
      run native "$r" node dist/bench/core/model-forward.js --backend native --batch "$b" --seq "$s" --reps 2
    done
  fi
  if [[ " $parts " == *" gemm "* ]]; then
    # shellcheck disable=SC2086  # gemm_args is a list of flags
    run numpy "$r" "$py" bench/core/sgemm_numpy.py --tokens "$gemm_tokens" $gemm_args
    if [[ -n $before ]]; then
      # shellcheck disable=SC2086
      run native-before "$r" env WSFLOW_NATIVE_ADDON="$before/native/blas/build/Release/wsflow_blas.node" \
        node dist/bench/core/gemm-bench.js --backends native --tokens "$gemm_tokens" $gemm_args ${gemm_args:+--linear}
    fi
    # with the weight [N, K], through the model's own linear op (--linear: the packed-weight kernel where the addon has it)
    # shellcheck disable=SC2086
    run native "$r" node dist/bench/core/gemm-bench.js --backends native --tokens "$gemm_tokens" $gemm_args ${gemm_args:+--linear}
  fi
done
if [[ " $parts " == *" train "* ]]; then
  # a 4 x 512 step takes minutes: each command times one step after a warm-up step; TRAIN_ROUNDS repeats the whole
  # set interleaved, so that each round's ratios divide figures taken minutes apart, not an hour
  for r in $(seq 1 "$train_rounds"); do
    for t in $torch_threads; do run "pytorch ($t thr)" "$r" "$py" bench/training/torch_lora_step.py --batch 4 --seq "$train_seq" --threads "$t" --reps 1; done
    if [[ -n $before ]]; then
      for a in $before_adapters; do
        run native-before "$r" node "$before/dist/bench/training/train-step.js" --child "$a" --backend native --batch 4 --seq "$train_seq" --reps 1
      done
    fi
    for a in $adapters; do run native "$r" node dist/bench/training/train-step.js --child "$a" --backend native --batch 4 --seq "$train_seq" --reps 1; done
  done
fi
note end
echo "wrote $out" >&2
