#!/usr/bin/env bash
# The GPU check (docs/gpu-check.md), on a machine with python3 (PyTorch, transformers, PEFT) but no Node, npm or
# network: unpack the folder bench/gpu/pack.sh made, point the Vulkan loader at NVIDIA's ICD, run the wsflow half
# (goldens, 0.6B-shape forward, LoRA step) and the PyTorch half on the same weights and ids, print one table.
#
#   bash bench/gpu/run.sh [--backend webgpu] [--tiny] [--pack .gpu-pack] [--torch-device cuda|cpu] [--skip-torch]
#
# Run from the repository root. --tiny: every step at a few tokens on a 2-layer model (the CPU test of this path).
# With $OUT set, the table (gpu-check.md, gpu-check.json), both halves' JSON and the log are copied there.
# Exit 0 when both halves ran and the goldens pass; 1 otherwise; 2 on bad arguments or a missing pack.
set -uo pipefail

backend=webgpu shape=full pack=.gpu-pack torch_device=cuda skip_torch=0
usage="usage: bash bench/gpu/run.sh [--backend NAME] [--tiny] [--pack DIR] [--torch-device cuda|cpu] [--skip-torch]"
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) backend="${2:?$usage}"; shift 2 ;;
    --tiny) shape=tiny; shift ;;
    --pack) pack="${2:?$usage}"; shift 2 ;;
    --torch-device) torch_device="${2:?$usage}"; shift 2 ;;
    --skip-torch) skip_torch=1; shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) echo "gpu-check: unknown argument \"$1\"" >&2; echo "$usage" >&2; exit 2 ;;
  esac
done
case "$torch_device" in cuda|cpu) ;; *) echo "gpu-check: --torch-device must be cuda or cpu, got \"$torch_device\"" >&2; exit 2 ;; esac
[ -f package.json ] && grep -q '"name": "wsflow"' package.json || { echo "gpu-check: run from the wsflow repository root" >&2; exit 2; }
for f in node.xz payload.tar.xz manifest.json; do
  [ -f "$pack/$f" ] || { echo "gpu-check: $pack/$f missing: run bash bench/gpu/pack.sh on a machine with Node, and carry $pack" >&2; exit 2; }
done

t_start=$SECONDS
run="$pack/run"
# 1. unpack once per pack (the manifest's date says which pack the unpacked copy came from)
if ! cmp -s "$pack/manifest.json" "$run/manifest.json"; then
  echo "gpu-check: unpacking $pack into $run"
  rm -rf "$run" && mkdir -p "$run/bin" "$run/lib" || exit 1
  if command -v xz >/dev/null; then
    xz -dc "$pack/node.xz" > "$run/bin/node.tmp" && tar -C "$run" -xJf "$pack/payload.tar.xz" || exit 1
  else
    # no xz-utils: python3's lzma reads the same files
    python3 - "$pack" "$run" <<'PY' || exit 1
import lzma, shutil, sys, tarfile
pack, run = sys.argv[1], sys.argv[2]
with lzma.open(f"{pack}/node.xz") as src, open(f"{run}/bin/node.tmp", "wb") as dst:
    shutil.copyfileobj(src, dst)
with tarfile.open(f"{pack}/payload.tar.xz", "r:xz") as t:
    t.extractall(run)
PY
  fi
  chmod +x "$run/bin/node.tmp" && mv "$run/bin/node.tmp" "$run/bin/node"
  [ -f "$pack/libvulkan.so.1" ] && cp "$pack/libvulkan.so.1" "$run/lib/libvulkan.so.1"
  cp "$pack/manifest.json" "$run/manifest.json"
fi
node_bin="$run/bin/node"
echo "gpu-check: node $("$node_bin" --version) (unpacked in $((SECONDS - t_start)) s)"

# 2. Vulkan: the system's loader when it has one, else the packed one; NVIDIA's ICD when its manifest is present
if ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  echo "gpu-check: Vulkan loader: the system's ($(ldconfig -p | grep 'libvulkan.so.1 ' | head -1 | sed 's/.*=> //'))"
else
  export LD_LIBRARY_PATH="$PWD/$run/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "gpu-check: Vulkan loader: the packed one ($run/lib/libvulkan.so.1)"
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json; do
  if [ -f "$icd" ]; then
    export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"   # the second name for loaders before 1.3.207
    echo "gpu-check: Vulkan ICD: $icd"
    break
  fi
done
[ -n "${VK_DRIVER_FILES:-}" ] || echo "gpu-check: no NVIDIA ICD manifest found; the loader searches its default paths"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$PWD/$run/xdg}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/gpu-check: GPU: /'

# 3. the two halves; each under a time limit so the whole check stays under 10 minutes
model="$run/model-$shape"
res="$run/results-$backend-$shape"
rm -rf "$res" && mkdir -p "$res"
status=0
echo "gpu-check: wsflow half on $backend ($shape shape)"
timeout 330 "$node_bin" "$run/dist/bench/gpu/node-check.js" --backend "$backend" --shape "$shape" --model "$model" --out "$res" 2>&1 | tee "$res/node.log"
node_rc=${PIPESTATUS[0]}
[ "$node_rc" -eq 0 ] || { echo "gpu-check: the wsflow half failed (exit $node_rc$([ "$node_rc" -eq 124 ] && echo ', over its 330 s limit'))"; status=1; }
if [ "$skip_torch" -eq 1 ]; then
  printf '{"half": "torch", "skipped": "--skip-torch"}\n' > "$res/torch.json"
elif [ ! -f "$res/ids.json" ]; then
  printf '{"half": "torch", "skipped": "the wsflow half wrote no ids.json"}\n' > "$res/torch.json"
else
  echo "gpu-check: PyTorch half on $torch_device"
  timeout 200 python3 bench/gpu/torch_check.py --model "$model" --ids "$res/ids.json" --out "$res/torch.json" --device "$torch_device" 2>&1 | tee "$res/torch.log"
  torch_rc=${PIPESTATUS[0]}
  [ "$torch_rc" -eq 0 ] || { echo "gpu-check: the PyTorch half failed (exit $torch_rc)"; status=1; }
  [ -f "$res/torch.json" ] || printf '{"half": "torch", "skipped": "torch_check.py failed (exit %s), see torch.log"}\n' "$torch_rc" > "$res/torch.json"
fi
[ "$skip_torch" -eq 1 ] || ! grep -q '"skipped"' "$res/torch.json" || status=1

# 4. the table
if [ -f "$res/node.json" ]; then
  "$node_bin" "$run/dist/bench/gpu/table.js" --node "$res/node.json" --torch "$res/torch.json" ${OUT:+--out "$OUT"} || status=1
fi
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT" && cp "$res"/*.json "$res"/*.log "$OUT"/ 2>/dev/null
fi
echo "gpu-check: done in $((SECONDS - t_start)) s, exit $status"
exit $status
