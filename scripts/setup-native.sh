#!/usr/bin/env bash
# Builds the optional OpenBLAS addon native/blas (the `native` tfjs backend). Without it wsflow runs
# on wasm/cpu. `npm ci` runs this through scripts/install-native.mjs when the dependencies below are
# present, and skips it otherwise, so installs never fail for lack of a compiler or OpenBLAS.
#
#   bash scripts/setup-native.sh                 build (needs libopenblas-dev, pkg-config, g++, make, python3)
#   bash scripts/setup-native.sh --install-deps  apt-get those first when missing (root, Debian/Ubuntu)
#
# node-gyp is the one bundled with npm; headers come from the local Node installation
# (<prefix>/include/node), so nothing is downloaded.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

install_deps=0
for arg in "$@"; do
  case "$arg" in
    --install-deps) install_deps=1 ;;
    *) echo "setup-native: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

have_deps() {
  command -v pkg-config >/dev/null && pkg-config --exists openblas && command -v g++ >/dev/null \
    && command -v make >/dev/null && command -v python3 >/dev/null
}

if ! have_deps && [[ $install_deps == 1 ]]; then
  echo "setup-native: installing libopenblas-dev pkg-config g++ make python3 (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev pkg-config g++ make python3 >/dev/null
fi
if ! have_deps; then
  echo "setup-native: missing build dependencies. Need: pkg-config with openblas.pc (Debian: libopenblas-dev)," >&2
  echo "  g++, make, python3. Install them (or rerun with --install-deps as root) and try again." >&2
  exit 1
fi

node_bin="$(command -v node)"
node_prefix="$(dirname "$(dirname "$(readlink -f "$node_bin")")")"
gyp_args=(rebuild --directory native/blas)
if [[ -f "$node_prefix/include/node/node_api.h" ]]; then
  gyp_args+=("--nodedir=$node_prefix")
fi

# inside an npm lifecycle script npm names its bundled node-gyp itself
node_gyp="${npm_config_node_gyp:-}"
if [[ -z "$node_gyp" || ! -f "$node_gyp" ]]; then
  npm_root="$(npm root -g 2>/dev/null)"
  node_gyp="$npm_root/npm/node_modules/node-gyp/bin/node-gyp.js"
fi
if [[ ! -f "$node_gyp" ]]; then
  node_gyp="$(command -v node-gyp || true)"
  [[ -n "$node_gyp" ]] || { echo "setup-native: node-gyp not found (expected in npm's own node_modules)" >&2; exit 1; }
fi

start=$(date +%s)
node "$node_gyp" "${gyp_args[@]}" >native/blas/build.log 2>&1 || {
  echo "setup-native: node-gyp failed; last lines of native/blas/build.log:" >&2
  tail -n 30 native/blas/build.log >&2
  exit 1
}
echo "setup-native: built native/blas/build/Release/wsflow_blas.node in $(( $(date +%s) - start ))s" \
  "against $(pkg-config --modversion openblas 2>/dev/null || echo '?') OpenBLAS"
