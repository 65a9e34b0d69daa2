/**
 * Pipeline load time on generated 1000-stage pipelines (a chain of cmd stages, and a matrix of kind stages),
 * each measured in fresh processes, since a CLI always starts cold:
 *
 *   load (no cache)   loadPipeline in a new process, the load cache off: YAML, schema, kinds, expansion
 *   load (cached)     loadPipeline in a new process answered by the load cache
 *   dag   (no cache)  the whole `node bin/wsflow.js dag` command, .wsflow/ removed before each run
 *   dag   (cached)    the whole command with a warm load cache
 *
 * Run: npm run build && node dist/bench/pipeline-load.js [--runs N]
 * Timings are medians; the load average is printed because 8 engineers share this machine.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** 1000 cmd stages, each reading the previous one's out and one param. */
export function chainPipeline(stages: number): string {
  const lines = ['params:', '  lr: 0.1', '  steps: 3', 'stages:'];
  for (let i = 0; i < stages; i++) {
    lines.push(`  s${i}:`);
    lines.push(`    cmd: python step.py --lr \${params.lr} --in ${i === 0 ? 'input.txt' : `data/s${i - 1}.txt`} --out data/s${i}.txt`);
    lines.push(`    deps: [${i === 0 ? 'input.txt' : `data/s${i - 1}.txt`}, step.py]`);
    lines.push('    params: [steps]');
    lines.push(`    outs: [data/s${i}.txt]`);
  }
  return `${lines.join('\n')}\n`;
}

/** train and eval over adapter × seed (2 × cells) plus one report needing every eval: 2·cells + 1 stages. */
export function matrixPipeline(adapters: number, seeds: number): string {
  const adapterValues = Array.from({ length: adapters }, (_, i) => `a${i}`).join(', ');
  const seedValues = Array.from({ length: seeds }, (_, i) => i).join(', ');
  return `params:
  prompt: { anchor: "My choice: **" }
  train: { repeat: 2 }
matrix:
  adapter: [${adapterValues}]
  seed: [${seedValues}]
stages:
  train:
    uses: ./kinds/writer.js
    foreach: [adapter, seed]
    with:
      message: "train \${matrix.adapter} \${matrix.seed}"
      repeat: \${params.train.repeat}
  eval:
    uses: ./kinds/writer.js
    foreach: [adapter, seed]
    needs: { source: train }
    with: { message: "\${params.prompt.anchor}", tags: ["\${matrix.adapter}"] }
  report:
    uses: ./kinds/combine.js
    needs: { base: train@a0-0, parts: eval@* }
`;
}

const LOAD_SCRIPT = `
import { performance } from 'node:perf_hooks';
const t0 = performance.now();
const [{ loadPipeline }, { createKindResolver }, { directoryLoadCache }] = await Promise.all([
  import(process.env.ROOT + 'dist/src/pipeline/load-pipeline.js'),
  import(process.env.ROOT + 'dist/src/pipeline/kind-resolver.js'),
  import(process.env.ROOT + 'dist/src/pipeline/load-cache.js'),
]);
const t1 = performance.now();
const c1 = process.cpuUsage();
const cache = process.env.CACHE === '1' ? directoryLoadCache('.wsflow/pipeline-cache') : null;
const result = await loadPipeline({ file: 'pipeline.yaml', resolveKind: createKindResolver(new Map()), cache });
const t2 = performance.now();
const c2 = process.cpuUsage(c1);
if (!result.ok) { console.error(JSON.stringify(result.error.slice(0, 3))); process.exit(1); }
const processCpu = process.cpuUsage();
console.log(JSON.stringify({ importMs: t1 - t0, loadMs: t2 - t1, loadCpuMs: (c2.user + c2.system) / 1000,
  processCpuMs: (processCpu.user + processCpu.system) / 1000, stages: result.value.stages.size }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

interface LoadTiming {
  wallMs: number;
  loadMs: number;
  /** CPU time of the load and of the whole process: less sensitive than wall time to other work on the machine */
  loadCpuMs: number;
  processCpuMs: number;
  stages: number;
}

async function timeLoad(dir: string, cache: boolean): Promise<LoadTiming> {
  const start = performance.now();
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', LOAD_SCRIPT], {
    cwd: dir,
    env: { ...process.env, ROOT: `file://${repoRoot}`, CACHE: cache ? '1' : '0' },
  });
  const wallMs = performance.now() - start;
  return { wallMs, ...(JSON.parse(stdout) as Omit<LoadTiming, 'wallMs'>) };
}

async function timeDag(dir: string): Promise<number> {
  const start = performance.now();
  await run(process.execPath, [path.join(repoRoot, 'bin', 'wsflow.js'), 'dag'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  return performance.now() - start;
}

async function measure(name: string, yaml: string, runs: number): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wsflow-bench-load-'));
  try {
    await writeFile(path.join(dir, 'pipeline.yaml'), yaml);
    await cp(path.join(repoRoot, 'test', 'fixtures', 'kinds'), path.join(dir, 'kinds'), { recursive: true });
    const cold: LoadTiming[] = [];
    const warm: LoadTiming[] = [];
    const dagCold: number[] = [];
    const dagWarm: number[] = [];
    for (let i = 0; i < runs; i++) {
      cold.push(await timeLoad(dir, false));
      await rm(path.join(dir, '.wsflow'), { recursive: true, force: true });
      dagCold.push(await timeDag(dir));
    }
    await timeLoad(dir, true); // fill the cache
    for (let i = 0; i < runs; i++) {
      warm.push(await timeLoad(dir, true));
      dagWarm.push(await timeDag(dir));
    }
    const f = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
    const m = (list: LoadTiming[], key: keyof LoadTiming): string => f(median(list.map((t) => t[key])));
    console.log(`${name}: ${cold[0]?.stages ?? 0} stages, ${(yaml.length / 1024).toFixed(0)} kB of YAML`);
    console.log(
      `  loadPipeline, no cache: ${m(cold, 'loadMs')} wall, ${m(cold, 'loadCpuMs')} cpu; whole process ${m(cold, 'wallMs')} wall, ${m(cold, 'processCpuMs')} cpu`,
    );
    console.log(
      `  loadPipeline, cached:   ${m(warm, 'loadMs')} wall, ${m(warm, 'loadCpuMs')} cpu; whole process ${m(warm, 'wallMs')} wall, ${m(warm, 'processCpuMs')} cpu`,
    );
    console.log(`  wsflow dag: no cache ${f(median(dagCold))} wall, cached ${f(median(dagWarm))} wall`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const runsFlag = process.argv.indexOf('--runs');
const runs = runsFlag >= 0 ? Number(process.argv[runsFlag + 1]) : 5;
console.log(`node ${process.version}, load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}, ${runs} runs each, medians`);
await measure('chain', chainPipeline(1000), runs);
await measure('matrix', matrixPipeline(10, 50), runs);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
