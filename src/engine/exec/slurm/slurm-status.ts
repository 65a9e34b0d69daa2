/**
 * What `wsflow status` shows for stages a run is executing on SLURM: the job id (from the job directory the
 * executor wrote) and SLURM's live state, queued or running and where, in one squeue call for all of them.
 * Synchronous: status is a short-lived command and this is its only external call.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { jobFile, readJson, type JobRecord } from './job-files.js';
import { phaseOf } from './job-states.js';
import type { SlurmJobView } from './slurm-job-view.js';

/** cache/slurm: where the executor keeps one directory per execution */
export function slurmJobsDirOf(cacheDir: string): string {
  return join(cacheDir, 'slurm');
}

/** Jobs of the given executions (those that have one), with SLURM's state. */
export function slurmJobsOf(cacheDir: string, executionIds: readonly number[]): Map<number, SlurmJobView> {
  const out = new Map<number, SlurmJobView>();
  const jobsDir = slurmJobsDirOf(cacheDir);
  const byJob = new Map<string, number>();
  for (const id of executionIds) {
    const record = readJson<JobRecord>(jobFile(join(jobsDir, String(id)), 'job'));
    if (record) byJob.set(record.jobId, id);
  }
  if (byJob.size === 0) return out;
  const r = spawnSync('squeue', ['-h', '-t', 'all', '-j', [...byJob.keys()].join(','), '-o', '%i|%T|%r|%N'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const seen = new Map<string, { state: string; reason: string; node: string }>();
  if (r.status === 0) {
    for (const line of r.stdout.split('\n')) {
      const [jobId, state, reason, node] = line.trim().split('|');
      if (jobId && state) seen.set(jobId, { state, reason: reason || 'None', node: node ?? '' });
    }
  }
  for (const [jobId, executionId] of byJob) {
    const s = seen.get(jobId);
    out.set(
      executionId,
      s
        ? { jobId, state: s.state, phase: phaseOf(s.state), reason: s.reason, ...(s.node ? { node: s.node } : {}) }
        : { jobId, state: 'UNKNOWN', phase: 'unknown', reason: 'None' },
    );
  }
  return out;
}
