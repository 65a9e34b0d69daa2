#!/usr/bin/env node
// npm's `install` lifecycle step for this package: builds the optional OpenBLAS addon (native/blas) when the
// machine can, so `npm ci` gives the `native` backend with no further command. It never fails the install:
// without a compiler or OpenBLAS it prints one line and exits 0 (wsflow then runs on wasm and says so), and a
// build that fails with everything present prints the log's tail and still exits 0.
//
//   WSFLOW_NATIVE_BUILD=0   skip the build (e.g. CI steps that want the addon absent)
//
// Plain JavaScript with no dependencies: it runs before `prepare` compiles anything, from a fresh clone.
import { accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOW = 'build it later with `npm run build:native` (needs libopenblas-dev, pkg-config, g++, make, python3)';

function skip(why) {
  process.stderr.write(`wsflow: native backend not built (${why}); wsflow will use wasm; ${HOW}\n`);
  process.exit(0);
}

/** The first executable named `name` on PATH, like `command -v`, without needing a shell. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

if (process.env.WSFLOW_NATIVE_BUILD === '0') skip('WSFLOW_NATIVE_BUILD=0');
if (process.platform !== 'linux' && process.platform !== 'darwin') skip(`no build recipe for ${process.platform}`);

const compiler = process.env.CXX !== undefined && process.env.CXX !== '' ? process.env.CXX.split(' ')[0] : 'g++';
const missing = ['bash', compiler, 'make', 'python3', 'pkg-config'].filter((tool) => onPath(tool) === undefined);
if (missing.length > 0) skip(`missing: ${missing.join(', ')}`);
const pc = spawnSync('pkg-config', ['--exists', 'openblas'], { stdio: 'ignore' });
if (pc.status !== 0) skip('pkg-config finds no openblas (Debian: libopenblas-dev)');

// setup-native.sh prints one line on success and the build log's tail on failure
const build = spawnSync('bash', [join(root, 'scripts', 'setup-native.sh')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  process.stderr.write(`wsflow: the native addon build failed (see native/blas/build.log); wsflow will use wasm; ${HOW}\n`);
}
process.exit(0);
