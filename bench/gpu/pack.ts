/**
 * Pack what the GPU check needs on a machine without Node, npm or network into one git-ignored folder
 * (docs/gpu-check.md), sized so that it and the working tree travel together within the device budget:
 *
 *   node dist/bench/gpu/pack.js [--out .gpu-pack] [--budget-mib 64] [--node PATH] [--libvulkan FILE]
 *
 *   OUT/node.xz            this Node binary, xz -6 (--xz-level N)
 *   OUT/payload.tar.xz     package.json (type: module), dist/src/core, dist/src/contract, dist/bench/gpu, and the node_modules subset
 *   OUT/libvulkan.so.1     the Vulkan loader (Debian's libvulkan1, via apt-get download; or --libvulkan FILE)
 *   OUT/manifest.json      versions and sizes
 *
 * Run from the repository root after `npm run build`. Steps go cheapest first and the size is checked after each,
 * so an over-budget pack fails early; it is built in a temporary folder and renamed into place only when complete
 * and within budget (exit 1 otherwise, nothing left behind).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseFlags } from './check-shapes.js';
import { distFiles, planPackages } from './pack-plan.js';

const MiB = 2 ** 20;

function fail(message: string, code = 1): never {
  process.stderr.write(`gpu-check pack: ${message}\n`);
  process.exit(code);
}

const flags = parseFlags(process.argv.slice(2), ['out', 'budget-mib', 'node', 'libvulkan', 'xz-level']);
if (!flags.ok) fail(flags.error, 2);
const root = process.cwd();
if (!existsSync(join(root, 'package.json')) || (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string }).name !== 'wsflow') {
  fail(`${root}: not the wsflow repository root (run the pack from there)`, 2);
}
const out = resolve(flags.value.get('out') ?? '.gpu-pack');
const rel = relative(root, out);
if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) fail(`--out ${out}: must be a folder inside ${root}`, 2);
const budgetMiB = Number(flags.value.get('budget-mib') ?? '64');
if (!(budgetMiB > 0)) fail(`--budget-mib must be a positive number, got "${flags.value.get('budget-mib')}"`, 2);
const nodeBin = resolve(flags.value.get('node') ?? process.execPath);
if (!existsSync(nodeBin)) fail(`--node ${nodeBin}: no such file`, 2);
const libvulkanArg = flags.value.get('libvulkan');
// -6 is the pack's level; tests pass 0 to spend seconds rather than minutes on the same steps
const xzLevel = flags.value.get('xz-level') ?? '6';
if (!/^[0-9]$/.test(xzLevel)) fail(`--xz-level must be 0..9, got "${xzLevel}"`, 2);
for (const tool of ['xz', 'tar', 'git']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) fail(`${tool} is not installed (apt-get install ${tool === 'xz' ? 'xz-utils' : tool})`, 2);
}
if (existsSync(out) && !existsSync(join(out, 'manifest.json')) && readdirSync(out).length > 0) {
  fail(`${out} exists and is not a GPU-check pack (no manifest.json): refusing to replace it`, 2);
}

const staging = `${out}.tmp-${process.pid}`;
function abort(message: string): never {
  rmSync(staging, { recursive: true, force: true });
  fail(message);
}
process.on('SIGINT', () => abort('interrupted'));

/** What travels without being named: tracked files and untracked files git does not ignore. */
function treeBytes(): number {
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'buffer', maxBuffer: 1 << 28 });
  if (r.status !== 0) fail(`git ls-files failed: ${r.stderr.toString().trim()}`);
  let total = 0;
  for (const f of r.stdout.toString('utf8').split('\0')) {
    if (f === '') continue;
    try {
      total += lstatSync(join(root, f)).size;
    } catch {
      // deleted in the work tree but still in the index: it does not travel
    }
  }
  return total;
}

const sizes: Array<[string, number]> = [];
function account(what: string, bytes: number): void {
  sizes.push([what, bytes]);
  const total = sizes.reduce((a, [, b]) => a + b, 0);
  process.stderr.write(`  ${what.padEnd(44)} ${(bytes / MiB).toFixed(2).padStart(8)} MiB   running total ${(total / MiB).toFixed(2)} MiB of ${budgetMiB}\n`);
  if (total > budgetMiB * MiB) abort(`over budget: ${(total / MiB).toFixed(2)} MiB > ${budgetMiB} MiB after ${what} (${sizes.map(([w, b]) => `${w} ${(b / MiB).toFixed(1)}`).join(', ')})`);
}

function run(cmd: string, args: string[], cwd: string, what: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) abort(`${what}: ${cmd} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

process.stderr.write(`packing the GPU check into ${out}\n`);
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
account('working tree (git ls-files: tracked + untracked)', treeBytes());

// payload: dist subset + node_modules subset, one tar.xz
const payload = join(staging, 'payload');
const dist = distFiles(join(root, 'dist'));
if (!dist.ok) abort(dist.error);
for (const f of dist.value) {
  mkdirSync(dirname(join(payload, 'dist', f)), { recursive: true });
  copyFileSync(join(root, 'dist', f), join(payload, 'dist', f));
}
const plans = planPackages(join(root, 'node_modules'));
if (!plans.ok) abort(plans.error);
const packages: Array<{ name: string; version: string; files: number }> = [];
for (const p of plans.value) {
  for (const f of p.files) {
    const src = realpathSync(join(p.dir, f));
    mkdirSync(dirname(join(payload, 'node_modules', p.name, f)), { recursive: true });
    copyFileSync(src, join(payload, 'node_modules', p.name, f));
  }
  const version = (JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  packages.push({ name: p.name, version, files: p.files.length });
}
writeFileSync(join(payload, 'package.json'), `${JSON.stringify({ name: 'wsflow-gpu-check-payload', private: true, type: 'module' }, null, 2)}\n`);
const tarFd = openSync(join(staging, 'payload.tar.xz'), 'w');
const tar = spawnSync('sh', ['-c', `tar -C "$1" -cf - . | xz -${xzLevel} -T1 -c`, 'sh', payload], { stdio: ['ignore', tarFd, 'pipe'] });
closeSync(tarFd);
if (tar.status !== 0) abort(`payload: tar | xz failed: ${tar.stderr.toString().trim()}`);
rmSync(payload, { recursive: true, force: true });
account(`payload.tar.xz (${dist.value.length} dist files, ${packages.length} packages)`, statSync(join(staging, 'payload.tar.xz')).size);

// the Vulkan loader: the GPU machine's image may have the NVIDIA driver's ICD but no libvulkan.so.1
let libvulkanVersion: string;
if (libvulkanArg !== undefined) {
  if (!existsSync(libvulkanArg)) abort(`--libvulkan ${libvulkanArg}: no such file`);
  copyFileSync(realpathSync(libvulkanArg), join(staging, 'libvulkan.so.1'));
  libvulkanVersion = `from ${libvulkanArg}`;
} else {
  const apt = join(staging, 'apt');
  mkdirSync(apt);
  run('apt-get', ['download', 'libvulkan1'], apt, 'downloading Debian\'s libvulkan1 (or pass --libvulkan FILE)');
  const deb = readdirSync(apt).find((f) => f.endsWith('.deb'));
  if (deb === undefined) abort('apt-get download libvulkan1 wrote no .deb');
  libvulkanVersion = `Debian libvulkan1 ${run('dpkg-deb', ['-f', deb, 'Version'], apt, 'reading the .deb').trim()}`;
  run('dpkg-deb', ['-x', deb, 'x'], apt, 'unpacking the .deb');
  const found = run('find', ['x', '-name', 'libvulkan.so.1'], apt, 'finding libvulkan.so.1').trim().split('\n')[0] ?? '';
  if (found === '') abort(`${deb} has no libvulkan.so.1`);
  copyFileSync(realpathSync(join(apt, found)), join(staging, 'libvulkan.so.1'));
  rmSync(apt, { recursive: true, force: true });
}
account(`libvulkan.so.1 (${libvulkanVersion})`, statSync(join(staging, 'libvulkan.so.1')).size);

// Node itself, last: the biggest and slowest to compress
const fd = openSync(join(staging, 'node.xz'), 'w');
const xz = spawnSync('xz', [`-${xzLevel}`, '-T1', '-c', nodeBin], { stdio: ['ignore', fd, 'pipe'] });
closeSync(fd);
if (xz.status !== 0) abort(`xz -${xzLevel} ${nodeBin} failed: ${xz.stderr.toString().trim()}`);
const nodeVersion = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim();
account(`node.xz (${nodeVersion}, ${process.platform}-${process.arch})`, statSync(join(staging, 'node.xz')).size);

const total = sizes.reduce((a, [, b]) => a + b, 0);
writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify({
  tool: 'wsflow gpu-check pack',
  date: new Date().toISOString(),
  node: nodeVersion,
  xzLevel: Number(xzLevel),
  platform: `${process.platform}-${process.arch}`,
  libvulkan: libvulkanVersion,
  packages,
  bytes: Object.fromEntries(sizes),
  totalWithTreeBytes: total,
  budgetBytes: budgetMiB * MiB,
}, null, 2)}\n`);
rmSync(out, { recursive: true, force: true });
renameSync(staging, out);
process.stderr.write(`packed: ${(total / MiB).toFixed(2)} MiB with the working tree, ${((budgetMiB * MiB - total) / MiB).toFixed(2)} MiB to spare; carry "${rel}"\n`);
