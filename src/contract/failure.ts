/**
 * Why a stage's execution failed, as a union of reasons: the scheduler, the loggers and the tests match on `reason`,
 * never on text. `describeFailure` gives the one line the state database, the stage log and the terminal show.
 * Plain data (it crosses the worker's IPC channel and a cluster job's events file as JSON).
 */
export type Failure =
  /** a cmd stage's command exited non-zero */
  | { reason: 'exit-status'; status: number }
  /** a cmd stage's command was killed by a signal */
  | { reason: 'signal'; signal: string }
  /** the command could not be started */
  | { reason: 'spawn-error'; message: string }
  /** the run was interrupted (Ctrl-C, SIGTERM); `detail`: what the stage's process said as it went */
  | { reason: 'interrupted'; detail?: string }
  /** an executor's time limit ended the stage */
  | { reason: 'timeout'; message: string }
  /** the stage ended but an output it declared is not there (or not visible here) */
  | { reason: 'output-missing'; message: string }
  /** a kind's code threw (the stack, or the message) */
  | { reason: 'kind-threw'; message: string }
  /** the process running the stage died under it (out of memory, killed from outside) */
  | { reason: 'worker-died'; message: string }
  /** the executor ended the stage's job by itself (cancelled, out of memory, a node failure, preempted …) */
  | { reason: 'job-ended'; message: string }
  /** the executor could not run the stage (closed, a submission refused, its own error) */
  | { reason: 'executor-error'; message: string }
  /** a fault of the machine (a full disk, a read-only path, a damaged state database) */
  | { reason: 'fault'; message: string }
  /** an input's cached bytes failed their content hash and the project holds no intact copy */
  | { reason: 'input-corrupt'; message: string }
  /** the stage ran, but storing its output in the cache failed */
  | { reason: 'commit-failed'; message: string }
  /** another wsflow run, which this one waited for, failed on the same key (its recorded error) */
  | { reason: 'failed-elsewhere'; runId: number; message: string };

export function describeFailure(f: Failure): string {
  switch (f.reason) {
    case 'exit-status':
      return `command exited with status ${f.status}`;
    case 'signal':
      return `command killed by ${f.signal}`;
    case 'spawn-error':
      return `could not start sh: ${f.message}`;
    case 'interrupted':
      return f.detail ?? 'interrupted';
    case 'failed-elsewhere':
      return `failed in run #${f.runId}: ${f.message}`;
    case 'timeout':
    case 'output-missing':
    case 'kind-threw':
    case 'worker-died':
    case 'job-ended':
    case 'executor-error':
    case 'fault':
    case 'input-corrupt':
    case 'commit-failed':
      return f.message;
  }
}
