#!/usr/bin/env bash
# One interleaved comparison of a training step (issue 15): PyTorch 1 and 2 threads, then wsflow on `native`
# from a baseline checkout (BEFORE, e.g. the main worktree, built) and from this one (or AFTER: a built copy,
# so that this worktree can be rebuilt while the comparison runs), per adapter; every
# result one JSON line with the machine's `uptime` before it, appended to OUT. Ratios count within one run
# only (the machine is shared: its load moves between rows).
#
#   BEFORE=/work/main OUT=/tmp/side.jsonl bench/training/side-by-side.sh 4 512 lora
#   BEFORE=/work/main OUT=/tmp/side.jsonl bench/training/side-by-side.sh 4 128 lora,dora,pissa,delora,oft,ia3
set -u
batch=$1 seq=$2 adapters=$3
here=${AFTER:-$(cd "$(dirname "$0")/../.." && pwd)}
before=${BEFORE:?set BEFORE to a built checkout to compare against}
out=${OUT:-/dev/stdout}
row() { # label, command...
  local label=$1; shift
  local load; load=$(uptime | sed 's/.*load average: //')
  local line; line=$("$@" 2>/dev/null | grep '^{' | tail -1)
  echo "{\"row\":\"$label\",\"uptimeLoad\":\"$load\",\"date\":\"$(date -u +%FT%TZ)\",\"result\":${line:-null}}" >> "$out"
}
for t in 1 2; do
  row "torch-${t}thr-lora" /usr/bin/python3 "$here/bench/training/torch_lora_step.py" --batch "$batch" --seq "$seq" --reps 1 --threads "$t"
done
for a in ${adapters//,/ }; do
  row "native-before-$a" node "$before/dist/bench/training/train-step.js" --child "$a" --backend native --batch "$batch" --seq "$seq" --reps 1
  row "native-after-$a" node "$here/dist/bench/training/train-step.js" --child "$a" --backend native --batch "$batch" --seq "$seq" --reps 1
done
