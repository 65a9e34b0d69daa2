/**
 * Shared pieces of the engine benchmarks: measuring a command's wall time and peak RSS with GNU time, the
 * machine description and load that every table carries, and markdown output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const WSFLOW = join(REPO_ROOT, 'bin', 'wsflow.js');

export interface Measured {
  wallS: number;
  peakRssMiB: number;
  code: number;
}

/**
 * Runs `argv` in `cwd` under /usr/bin/time: wall seconds (timed here: GNU time's %e has 10 ms steps, too coarse for
 * a 0.1 s command; the time process adds about 1 ms to every tool alike) and maximum resident set size.
 */
export function measure(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Measured {
  if (!existsSync('/usr/bin/time')) throw new Error('GNU time (/usr/bin/time) is needed: apt-get install -y time');
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-time-'));
  const out = join(dir, 'time.txt');
  try {
    const started = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, ...argv], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const wallS = (performance.now() - started) / 1000;
    const rss = readFileSync(out, 'utf8').trim().split('\n').at(-1) ?? '';
    return { wallS, peakRssMiB: Number(rss) / 1024, code: r.status ?? -1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median of repeated measurements (wall and RSS medians taken separately). */
export function medianOf(runs: readonly Measured[]): Measured {
  const med = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
  };
  return { wallS: med(runs.map((r) => r.wallS)), peakRssMiB: med(runs.map((r) => r.peakRssMiB)), code: Math.max(...runs.map((r) => r.code)) };
}

export function repeat(n: number, fn: () => Measured): Measured {
  const runs: Measured[] = [];
  for (let i = 0; i < n; i++) runs.push(fn());
  return medianOf(runs);
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu.replace(/\s+/g, ' ').trim()}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Node ${process.version}`;
}

export function load(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

/** The facts every results table carries; `loadAtStart` is taken when the benchmark began. */
export function header(title: string, command: string, loadAtStart: string): string {
  return [
    `### ${title}`,
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${machine()}`,
    `- load average (1/5/15 min): ${loadAtStart} at start, ${load()} at end (2 cores: above ~2 means contention)`,
    `- command: \`${command}\``,
    '',
    '',
  ].join('\n');
}

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function tool(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function argValue(flag: string, fallback: string): string {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
