/**
 * Everything SLURM can still tell about a job that has ended: the controller's record (kept MinJobAge seconds),
 * else accounting (sacct, where slurmdbd runs), else the last state squeue showed; plus the job's own log.
 */
import { describeEnd, type JobEnd, type JobStatus } from './job-states.js';
import { sacctJob, scontrolShowJob } from './slurm-commands.js';
import { readFileFrom } from './job-files.js';

/** The slurmstepd banner is the last thing in a killed job's log; the tail is enough and bounds the read. */
const LOG_TAIL_BYTES = 64 * 1024;

export async function readJobEnd(jobId: string, last: JobStatus | undefined, logPath: string | undefined): Promise<JobEnd> {
  const logText = logPath ? readTail(logPath, LOG_TAIL_BYTES) : '';
  const shown = await scontrolShowJob(jobId);
  if (shown.ok && shown.value) {
    const f = shown.value;
    return describeEnd(
      {
        jobId,
        state: f.JobState ?? last?.state ?? 'UNKNOWN',
        reason: f.Reason ?? last?.reason ?? 'None',
        ...(f.ExitCode !== undefined ? { exitCode: f.ExitCode } : {}),
        ...(f.NodeList && f.NodeList !== '(null)' ? { node: f.NodeList } : {}),
      },
      logText,
    );
  }
  const acct = await sacctJob(jobId);
  if (acct) return describeEnd({ jobId, state: acct.state, reason: acct.reason || 'None', exitCode: acct.exitCode }, logText);
  const end = describeEnd({ jobId, state: last?.state ?? 'UNKNOWN', reason: last?.reason ?? 'None' }, logText);
  if (last) return end;
  return { ...end, message: `${end.message}: SLURM no longer knows the job and accounting (sacct) has no record of it` };
}

export function readTail(path: string, maxBytes: number): string {
  return readFileFrom(path, (size) => Math.max(0, size - maxBytes)).toString('utf8');
}
