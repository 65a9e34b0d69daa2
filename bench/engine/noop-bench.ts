/**
 * No-op `wsflow run` and `wsflow status` on fully built synthetic chains of 10, 100 and 1000 stages, side by side
 * with Snakemake's dry-run (`-n`) and `--summary` on the equivalent workflow, built the same way, in the same run.
 * Each stage i copies stage i-1's file and appends i (a cmd stage; a Snakemake rule with a wildcard).
 *
 *   node dist/bench/engine/noop-bench.js [--sizes 10,100,1000] [--repeat 5] [--keep DIR] [--baseline OTHER/bin/wsflow.js]
 *
 * `--baseline`: another build of wsflow (a checkout of an earlier commit, built), measured in the same rounds on the
 * same projects: before vs after in one run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { argValue, header, load, measure, medianOf, REPO_ROOT, repeat, table, tool, WSFLOW, type Measured } from './bench-util.js';

function pipelineYaml(n: number): string {
  const lines = ['stages:', '  s0:', '    cmd: "mkdir -p data && echo 0 > data/0.txt"', '    outs: [data/0.txt]'];
  for (let i = 1; i < n; i++) {
    lines.push(`  s${i}:`, `    cmd: "cat data/${i - 1}.txt > data/${i}.txt && echo ${i} >> data/${i}.txt"`, `    deps: [data/${i - 1}.txt]`, `    outs: [data/${i}.txt]`);
  }
  return `${lines.join('\n')}\n`;
}

function snakefile(n: number): string {
  // a 1000-job chain resolves input functions recursively: past Python's default limit of 1000 frames
  return `import sys
sys.setrecursionlimit(100000)

N = ${n}
wildcard_constraints:
    i="[1-9][0-9]*"

rule all:
    input: f"data/{N - 1}.txt"

rule first:
    output: "data/0.txt"
    shell: "echo 0 > {output}"

rule step:
    input: lambda w: f"data/{int(w.i) - 1}.txt"
    output: "data/{i}.txt"
    shell: "cat {input} > {output} && echo {wildcards.i} >> {output}"
`;
}

function mustRun(argv: string[], cwd: string, what: string): void {
  const r = spawnSync(argv[0] ?? '', argv.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
}

function fmt(m: Measured): string {
  return `${m.wallS.toFixed(3)} s / ${m.peakRssMiB.toFixed(0)} MiB${m.code === 0 || m.code === 1 ? '' : ` (exit ${m.code})`}`;
}

function ratio(a: Measured | null, b: Measured): string {
  return a ? `${(a.wallS / b.wallS).toFixed(1)}x` : 'n/a';
}

/**
 * NODE_EXTRA_CA_CERTS makes every Node process read and parse that certificate bundle at start-up (about 37 ms of
 * `node -e 0`'s 60 here): a property of the environment, not of wsflow, and Snakemake does not pay it. Where it is
 * set, wsflow is measured both with it and without it, and the header says what it costs.
 */
function environments(): { label: string; env: NodeJS.ProcessEnv }[] {
  if (!process.env.NODE_EXTRA_CA_CERTS) return [{ label: '', env: process.env }];
  const without = { ...process.env };
  delete without.NODE_EXTRA_CA_CERTS;
  return [
    { label: 'NODE_EXTRA_CA_CERTS set (as in this environment)', env: process.env },
    { label: 'NODE_EXTRA_CA_CERTS unset', env: without },
  ];
}

function main(): void {
  const loadAtStart = load();
  const sizes = argValue('--sizes', '10,100,1000').split(',').map(Number);
  const reps = Number(argValue('--repeat', '5'));
  const keep = argValue('--keep', '');
  const baseline = argValue('--baseline', '');
  const builds = [...(baseline ? [{ label: 'baseline', bin: resolve(baseline) }] : []), { label: baseline ? 'this build' : '', bin: WSFLOW }];
  const snakemake = tool('snakemake');
  const root = keep || mkdtempSync(join(tmpdir(), 'wsflow-noop-bench-'));
  mkdirSync(root, { recursive: true });
  const node = process.execPath;
  const envs = environments();
  const rows: string[][][] = envs.map(() => []);
  const startup = envs.map((e) => repeat(reps, () => measure([node, '-e', '0'], root, e.env)));
  try {
    for (const n of sizes) {
      const wdir = join(root, `wsflow-${n}`);
      const sdir = join(root, `snakemake-${n}`);
      mkdirSync(wdir, { recursive: true });
      mkdirSync(sdir, { recursive: true });
      writeFileSync(join(wdir, 'pipeline.yaml'), pipelineYaml(n));
      writeFileSync(join(sdir, 'Snakefile'), snakefile(n));
      process.stderr.write(`building ${n}-stage chains…\n`);
      mustRun([node, WSFLOW, 'run', '-j', '2'], wdir, `wsflow run (${n})`);
      if (snakemake) mustRun([snakemake, '--cores', '2', '--quiet'], sdir, `snakemake build (${n})`);
      // one warm-up each (page cache, pipeline load cache), then `reps` rounds, each measuring every command once in
      // turn: a load that comes and goes on a shared machine then hits wsflow and Snakemake alike
      // every build on the same project: each keeps its own pipeline-cache entry (keyed by the loader's code)
      for (const { env } of envs) for (const b of builds) measure([node, b.bin, 'run'], wdir, env);
      if (snakemake) measure([snakemake, '-n', '--cores', '1'], sdir);
      const runs = envs.map(() => builds.map(() => ({ run: [] as Measured[], status: [] as Measured[] })));
      const dryRuns: Measured[] = [];
      const summaryRuns: Measured[] = [];
      for (let r = 0; r < reps; r++) {
        envs.forEach(({ env }, i) => {
          builds.forEach((b, j) => {
            runs[i]?.[j]?.run.push(measure([node, b.bin, 'run'], wdir, env));
            runs[i]?.[j]?.status.push(measure([node, b.bin, 'status'], wdir, env));
          });
        });
        if (snakemake) {
          dryRuns.push(measure([snakemake, '-n', '--cores', '1'], sdir));
          summaryRuns.push(measure([snakemake, '--summary', '--cores', '1'], sdir));
        }
      }
      const dry = snakemake ? medianOf(dryRuns) : null;
      const summary = snakemake ? medianOf(summaryRuns) : null;
      envs.forEach((_, i) => {
        builds.forEach((b, j) => {
          const run = medianOf(runs[i]?.[j]?.run ?? []);
          const status = medianOf(runs[i]?.[j]?.status ?? []);
          if (status.code !== 0) throw new Error(`wsflow status exited ${status.code}: the ${n}-stage chain is not fully fresh`);
          rows[i]?.push([
            String(n),
            ...(baseline ? [b.label] : []),
            fmt(run),
            fmt(status),
            dry ? fmt(dry) : 'not installed',
            summary ? fmt(summary) : 'not installed',
            ratio(dry, run),
            ratio(dry, status),
            ratio(summary, status),
          ]);
        });
      });
    }
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
  const head = [
    'stages',
    ...(baseline ? ['wsflow build'] : []),
    'wsflow run (no-op)',
    'wsflow status',
    'snakemake -n',
    'snakemake --summary',
    'run vs -n',
    'status vs -n',
    'status vs --summary',
  ];
  const tables = envs.map(({ label }, i) => {
    const start = `\`node -e 0\`: ${(startup[i]?.wallS ?? NaN).toFixed(3)} s`;
    return `${label ? `#### ${label} (${start})\n\n` : `${start}\n\n`}${table(head, rows[i] ?? [])}\n`;
  });
  process.stdout.write(
    `${header('No-op run and status on fully built chains (median of ' + reps + ' interleaved rounds, wall time / peak RSS)', `node ${process.argv.slice(1).map((a) => a.replace(REPO_ROOT, '')).join(' ')}`, loadAtStart)}${tables.join('\n')}\nRatios are Snakemake's wall time over wsflow's (higher is faster for wsflow). Node start-up is included.\n`,
  );
}

main();
