/**
 * The one-node cluster the SLURM tests run on. Tests that need it run only with WSFLOW_SLURM_TESTS=1 (CI sets it);
 * then a cluster that does not answer is started with .ci/slurm/start.sh (installing slurm-wlm and munge if
 * needed) and stopped again by whoever started it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const SLURM_TESTS = process.env.WSFLOW_SLURM_TESTS === '1';
export const LONG_TESTS = process.env.WSFLOW_LONG_TESTS === '1';
export const SKIP_REASON = SLURM_TESTS ? false : 'set WSFLOW_SLURM_TESTS=1 to run against a one-node SLURM cluster (.ci/slurm/start.sh)';

/** dist/test/slurm/ → the repository root */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function clusterAnswers(): boolean {
  const r = spawnSync('scontrol', ['ping'], { encoding: 'utf8' });
  return r.status === 0 && /is UP/.test(r.stdout);
}

/** Starts the cluster when it does not answer; true when this call started it (and so must stop it). */
export function ensureCluster(): boolean {
  if (clusterAnswers() && nodeState() === 'idle') return false;
  const r = spawnSync('bash', [join(REPO_ROOT, '.ci/slurm/start.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`.ci/slurm/start.sh failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  return true;
}

export function stopCluster(): void {
  const r = spawnSync('bash', [join(REPO_ROOT, '.ci/slurm/stop.sh')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`.ci/slurm/stop.sh failed (exit ${r.status}):\n${r.stderr}`);
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
