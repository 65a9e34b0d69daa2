#!/usr/bin/env bash
# PiSSA initialisation of Qwen3-0.6B's 98 matrices: wsflow (LAPACK through the native addon) against PEFT's math on
# PyTorch (torch.linalg.svd) at 1 and 2 threads, on the same values, in one run; ours runs before and after torch
# so that a load change shows. Appends JSON lines to bench/core/pissa-results.jsonl, with date, machine and load.
#
#   npm run build && bash scripts/setup-native.sh && bash bench/core/pissa-bench.sh [--blocks 14]
#
# PyTorch: Debian's python3-torch; PYTHON (default /usr/bin/python3, which sees Debian's packages) runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
blocks=14
if [[ "${1:-}" == --blocks ]]; then blocks="$2"; fi
python="${PYTHON:-/usr/bin/python3}"
out=bench/core/pissa-results.jsonl
run_id="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
tag() { node -e 'const [id, cpu, up] = process.argv.slice(1); for (const l of require("fs").readFileSync(0, "utf8").split("\n")) if (l.startsWith("{")) console.log(JSON.stringify({ run: id, cpu, uptime: up, ...JSON.parse(l) }))' "$run_id" "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1) x$(nproc)" "$(uptime)"; }
echo "run $run_id: $(uptime)" >&2
node dist/bench/core/pissa-init-bench.js --engine lapack --blocks "$blocks" | tag | tee -a "$out"
"$python" bench/core/pissa_init_torch.py --threads 1,2 --blocks "$blocks" | tag | tee -a "$out"
node dist/bench/core/pissa-init-bench.js --engine lapack --blocks "$blocks" | tag | tee -a "$out"
echo "done: $(uptime)" >&2
