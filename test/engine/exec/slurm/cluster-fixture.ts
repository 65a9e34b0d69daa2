/**
 * The one-node cluster the SLURM tests run on. Tests that need it run only with WSFLOW_SLURM_TESTS=1 (CI sets it);
 * then a cluster that does not answer is started with .ci/slurm/start.sh (installing slurm-wlm and munge if
 * needed) and stopped again by the test file that started it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const SLURM_TESTS = process.env.WSFLOW_SLURM_TESTS === '1';
export const LONG_TESTS = process.env.WSFLOW_LONG_TESTS === '1';
export const SKIP_REASON = SLURM_TESTS ? false : 'set WSFLOW_SLURM_TESTS=1 to run against a one-node SLURM cluster (.ci/slurm/start.sh)';

/** dist/test/engine/exec/slurm/ → the repository root */
import { REPO_ROOT } from '../../../helpers/repo-root.js';
export { REPO_ROOT };

export function clusterAnswers(): boolean {
  const r = spawnSync('scontrol', ['ping'], { encoding: 'utf8' });
  return r.status === 0 && /is UP/.test(r.stdout);
}

/**
 * Test files run in parallel (node --test), and these tests take the whole cluster (one node set down, one GPU):
 * each file holds an exclusive lock for its duration (a directory naming its pid; a dead holder's lock is taken
 * over), starts the cluster when it does not answer, and stops it when done if it started it (a developer's
 * running cluster is left alone).
 */
const LOCK = '/run/lock/wsflow-slurm-tests.lock';
let startedHere = false;

function holderAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
  } catch {
    // no pid yet: the holder is between mkdir and writing it, or died there
    try {
      return Date.now() - statSync(LOCK).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function acquireCluster(): Promise<void> {
  mkdirSync(dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch {
      if (!holderAlive()) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${LOCK} is still held by another test process`);
      else await new Promise((res) => setTimeout(res, 250));
    }
  }
  if (clusterAnswers() && nodeState() === 'idle') return;
  const r = spawnSync('bash', [join(REPO_ROOT, '.ci/slurm/start.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) {
    rmSync(LOCK, { recursive: true, force: true });
    throw new Error(`.ci/slurm/start.sh failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  startedHere = true;
}

export function releaseCluster(): void {
  try {
    if (startedHere) {
      startedHere = false;
      const r = spawnSync('bash', [join(REPO_ROOT, '.ci/slurm/stop.sh')], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`.ci/slurm/stop.sh failed (exit ${r.status}):\n${r.stderr}`);
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export function nodeName(): string {
  return spawnSync('sinfo', ['-h', '-N', '-o', '%N'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '';
}

export function nodeState(): string {
  return spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '';
}

/** How many `gpu` GRES the node advertises (start.sh configures one fake GPU by default). */
export function clusterGpus(): number {
  const gres = spawnSync('sinfo', ['-h', '-N', '-o', '%G'], { encoding: 'utf8' }).stdout;
  const m = /gpu(?::[^:,(]+)?:(\d+)/.exec(gres);
  return m ? Number(m[1]) : 0;
}
