/**
 * A SLURM job as `wsflow status` shows it. Kept apart from slurm-status.ts (which runs squeue) so that status
 * can name a job without loading the squeue client.
 */
import type { JobPhase } from './job-states.js';

export interface SlurmJobView {
  jobId: string;
  /** SLURM's state, e.g. PENDING, RUNNING; "UNKNOWN" when squeue could not say */
  state: string;
  phase: JobPhase | 'unknown';
  /** SLURM's reason while pending (Priority, Resources, …); "None" otherwise */
  reason: string;
  /** the node it runs on, once running */
  node?: string;
}

/** "SLURM job 123 queued (Priority)" / "SLURM job 123 running on node07" */
export function describeSlurmJob(job: SlurmJobView): string {
  switch (job.phase) {
    case 'queued':
      return `SLURM job ${job.jobId} queued${job.reason !== 'None' ? ` (${job.reason})` : ''}`;
    case 'running':
      return `SLURM job ${job.jobId} ${job.state === 'RUNNING' ? 'running' : job.state}${job.node ? ` on ${job.node}` : ''}`;
    case 'ended':
      return `SLURM job ${job.jobId} ${job.state}`;
    case 'unknown':
      return `SLURM job ${job.jobId} (squeue does not answer)`;
  }
}
