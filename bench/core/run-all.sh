#!/usr/bin/env bash
# Runs every core benchmark in one go and writes bench/core/results.jsonl and bench/core/RESULTS.md.
#   bash bench/core/run-all.sh [--quick]     (--quick: block and GEMM benchmarks only, no 0.6B model)
# Needs: npm run build, the addon (bash scripts/setup-native.sh), and for the references
# apt-get install python3-torch libopenblas0-pthread python3-numpy. Takes ~20 min on 2 idle cores.
# PyTorch runs once per thread count in TORCH_THREADS (default: 1 to nproc); the tables compare with the best.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
out=bench/core/results.jsonl
: >"$out"
py=/usr/bin/python3
torch_threads="${TORCH_THREADS:-$(seq -s ' ' 1 "$(nproc)")}"
printf '{"bench":"machine","date":"%s","cpu":"%s, %s cores","uptime":"%s"}\n' "$(date -u +%FT%TZ)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$(uptime | xargs)" >>"$out"
run() {
  echo "+ $*" >&2
  "$@" | tee /dev/stderr | grep '^{' >>"$out" || echo "  (failed: $*)" >&2
}
run "$py" bench/core/sgemm_numpy.py
run node dist/bench/core/gemm-bench.js --backends native,wasm
for shape in "2 64" "4 128"; do
  set -- $shape
  for t in $torch_threads; do run "$py" bench/core/torch_reference.py block-train --batch "$1" --seq "$2" --threads "$t"; done
  for b in native wasm; do run node dist/bench/core/block-bench.js --backend "$b" --mode train --batch "$1" --seq "$2"; done
done
run node dist/bench/core/block-bench.js --backend cpu --mode train --batch 2 --seq 64 --reps 1
for b in native wasm cpu; do run node dist/bench/core/block-bench.js --backend "$b" --mode forward --batch 4 --seq 128; done
if [[ $quick == 0 ]]; then
  for shape in "1 64" "4 128"; do
    set -- $shape
    for t in $torch_threads; do run "$py" bench/core/torch_reference.py forward --batch "$1" --seq "$2" --threads "$t"; done
    for b in native wasm; do run node dist/bench/core/model-forward.js --backend "$b" --batch "$1" --seq "$2" --breakdown; done
  done
  # pure-JS cpu: one 1x64 forward takes minutes; measured once, without repetitions
  run node dist/bench/core/model-forward.js --backend cpu --batch 1 --seq 64 --warmup 0 --reps 1 --breakdown
fi
node dist/bench/core/make-table.js "$out" >bench/core/RESULTS.md
echo "wrote bench/core/RESULTS.md" >&2
