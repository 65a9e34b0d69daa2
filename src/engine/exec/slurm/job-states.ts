/**
 * What SLURM says about a job, and what it means for a stage. Parsers for the stable text interfaces
 * (`squeue -o`, `scontrol show job -o`, `sacct -P`) rather than `--json`, whose schema changes between releases.
 *
 * Measured on slurm-wlm 22.05 (see docs/slurm.md): a time limit ends a job TIMEOUT/TimeLimit; scancel ends it
 * CANCELLED; a node set down ends it NODE_FAIL/NodeDown (with --no-requeue); memory over --mem ends it
 * OUT_OF_MEMORY with task/cgroup, but without cgroups (OverMemoryKill) FAILED/JobLaunchFailure with signal 9,
 * where only the slurmstepd line in the job's log says it was memory. So the log is read too.
 */

/** States after which SLURM will do nothing more with the job. */
const TERMINAL = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);

/** Waiting for resources or dependencies: nothing of the stage has run yet. */
const QUEUED = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'CONFIGURING', 'SUSPENDED']);

export type JobPhase = 'queued' | 'running' | 'ended';

/** `CANCELLED by 0` (sacct) → `CANCELLED`. */
export function baseState(state: string): string {
  return state.trim().split(/\s+/)[0]?.toUpperCase() ?? '';
}

export function phaseOf(state: string): JobPhase {
  const s = baseState(state);
  if (TERMINAL.has(s)) return 'ended';
  if (QUEUED.has(s)) return 'queued';
  // RUNNING, COMPLETING (the script ended, processes are being cleaned up), SIGNALING, STAGE_OUT, STOPPED …
  return 'running';
}

export interface JobStatus {
  jobId: string;
  state: string;
  /** SLURM's reason code, e.g. "Resources", "TimeLimit", "NodeDown"; "None" when none */
  reason: string;
  /** the job name (ours are `wsflow:<stage id>`) */
  name: string;
}

/** Format for `squeue -h -t all -o` whose lines `parseSqueue` reads; the name is last: it is free text. */
export const SQUEUE_FORMAT = '%i|%T|%r|%j';

export function parseSqueue(stdout: string): Map<string, JobStatus> {
  const out = new Map<string, JobStatus>();
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    const [jobId, state, reason, ...name] = t.split('|');
    if (jobId === undefined || state === undefined) continue;
    out.set(jobId, { jobId, state, reason: reason || 'None', name: name.join('|') });
  }
  return out;
}

/**
 * `scontrol show job -o ID`: one line of Key=Value pairs. Values may contain spaces (Command=, WorkDir=), so a
 * field runs up to the next ` Key=`.
 */
export function parseScontrolJob(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_/:]*)=/g;
  const starts: { key: string; valueStart: number; matchStart: number }[] = [];
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const key = m[1] as string;
    starts.push({ key, valueStart: m.index + m[0].length, matchStart: m.index });
  }
  starts.forEach((s, i) => {
    const end = i + 1 < starts.length ? (starts[i + 1] as { matchStart: number }).matchStart : line.length;
    if (!(s.key in fields)) fields[s.key] = line.slice(s.valueStart, end).trim();
  });
  return fields;
}

/** `sacct -n -P -X -o JobID,State,ExitCode,Reason`: the allocation's line (not .batch/.extern steps). */
export function parseSacct(stdout: string, jobId: string): { state: string; exitCode: string; reason: string } | null {
  for (const line of stdout.split('\n')) {
    const [id, state, exitCode, reason] = line.trim().split('|');
    if (id === jobId && state !== undefined) return { state, exitCode: exitCode ?? '', reason: reason ?? '' };
  }
  return null;
}

/** SLURM's `ExitCode=code:signal`. */
export function parseExitCode(text: string | undefined): { code: number; signal: number } | null {
  const m = /^(\d+):(\d+)$/.exec(text?.trim() ?? '');
  return m ? { code: Number(m[1]), signal: Number(m[2]) } : null;
}

/** Lines slurmstepd writes into the job's own output when it ends or kills a job: the human-readable cause. */
export function slurmLogLines(logText: string): string[] {
  const out: string[] = [];
  for (const line of logText.split('\n')) {
    const m = /^slurmstepd(?:-[^:]*)?: error: (.*)$/.exec(line.trim());
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

export type EndCause = 'completed' | 'exit-code' | 'time-limit' | 'out-of-memory' | 'node-failure' | 'cancelled' | 'preempted' | 'other';

export interface JobEnd {
  jobId: string;
  /** the node it ran on, when SLURM still says */
  node?: string;
  state: string;
  reason: string;
  exitCode?: { code: number; signal: number };
  cause: EndCause;
  /** one line for the run log and the execution's error text */
  message: string;
}

/**
 * The cause of a job's end from its final state, reason, exit code and the slurmstepd lines of its log.
 */
export function describeEnd(
  info: { jobId: string; state: string; reason: string; exitCode?: string; node?: string },
  logText: string,
): JobEnd {
  const state = baseState(info.state);
  const reason = info.reason && info.reason !== 'None' ? info.reason : '';
  const exitCode = parseExitCode(info.exitCode) ?? undefined;
  const stepd = slurmLogLines(logText);
  const memLine = stepd.find((l) => /memory limit|oom-kill|out of memory/i.test(l));
  const banner = stepd.find((l) => /^\*\*\* .* \*\*\*$/.test(l));
  let cause: EndCause;
  if (memLine !== undefined || state === 'OUT_OF_MEMORY') cause = 'out-of-memory';
  else if (state === 'TIMEOUT' || state === 'DEADLINE' || /TIME LIMIT/.test(banner ?? '')) cause = 'time-limit';
  else if (state === 'NODE_FAIL' || state === 'BOOT_FAIL' || /NODE FAILURE/.test(banner ?? '')) cause = 'node-failure';
  else if (state === 'PREEMPTED' || /PREEMPT/.test(banner ?? '')) cause = 'preempted';
  else if (state === 'CANCELLED') cause = 'cancelled';
  else if (state === 'COMPLETED') cause = 'completed';
  else if (state === 'FAILED' && exitCode && exitCode.code !== 0) cause = 'exit-code';
  else cause = 'other';

  const where = info.node ? ` on ${info.node}` : '';
  const head = `SLURM job ${info.jobId}${where} ended ${state}${reason ? ` (${reason})` : ''}`;
  const details: string[] = [];
  if (exitCode && (exitCode.code !== 0 || exitCode.signal !== 0)) {
    details.push(exitCode.signal !== 0 ? `killed by signal ${exitCode.signal}` : `exit code ${exitCode.code}`);
  }
  switch (cause) {
    case 'out-of-memory':
      details.push(`out of memory${memLine ? `: ${memLine}` : ''}`);
      break;
    case 'time-limit':
      details.push('time limit reached');
      break;
    case 'node-failure':
      details.push('node failure');
      break;
    case 'cancelled':
      details.push('cancelled (scancel or an administrator)');
      break;
    case 'preempted':
      details.push('preempted');
      break;
    case 'completed':
    case 'exit-code':
    case 'other':
      break;
  }
  const message = details.length > 0 ? `${head}: ${details.join(', ')}` : head;
  return {
    jobId: info.jobId,
    ...(info.node ? { node: info.node } : {}),
    state,
    reason: reason || 'None',
    ...(exitCode ? { exitCode } : {}),
    cause,
    message,
  };
}
