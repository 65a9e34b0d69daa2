#!/usr/bin/env bash
# Build, then pack the GPU check into .gpu-pack/ (see bench/gpu/pack.ts and docs/gpu-check.md). Extra arguments go
# to pack.js (--out DIR, --budget-mib N, --node PATH, --libvulkan FILE, --xz-level N).
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run build >/dev/null
exec node dist/bench/gpu/pack.js "$@"
