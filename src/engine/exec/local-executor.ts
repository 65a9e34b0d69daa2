/**
 * The local executor: a pool of forked worker processes per resource class. A worker that finished a stage
 * is kept for the next stage of the same class (an ML stage can reuse the model its predecessor loaded); one that
 * crashed is discarded and the stage reported as failed with the exit code or signal (an OOM kill shows SIGKILL).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { ResourceClass } from '../../contract/stage-kind.js';
import type { ExecuteRequest, StageExecutor } from './executor.js';
import { outputEndMarker, type StageRunOutcome, type WorkerReply, type WorkerRequest } from './stage-spec.js';
import { killTree } from '../util/process-util.js';
import { onAbort } from './on-abort.js';
import { err } from '../../contract/result.js';
import { describeFailure } from '../../contract/failure.js';

const ABORT_GRACE_MS = 5_000;

interface Job {
  request: ExecuteRequest;
  seq: number;
  marker: string;
  /** the worker's 'finished' reply, held until both output streams passed the end marker */
  outcome: StageRunOutcome | null;
  streamsDone: { stdout: boolean; stderr: boolean };
  resolve(outcome: StageRunOutcome): void;
}

interface Worker {
  child: ChildProcess;
  cls: ResourceClass;
  /** the request being served, null when idle */
  job: Job | null;
  exited: boolean;
  /** resolves once the process has exited and its pipes are closed */
  gone: Promise<void>;
  seq: number;
}

export interface LocalExecutorOptions {
  /** absolute path of the compiled worker entry (dist/src/engine/worker/stage-worker.js) */
  workerEntry: string;
  /** extra node flags for workers, e.g. --max-old-space-size */
  execArgv?: string[];
}

export class LocalExecutor implements StageExecutor {
  readonly name = 'local';
  readonly #options: LocalExecutorOptions;
  readonly #idle = new Map<ResourceClass, Worker[]>();
  readonly #all = new Set<Worker>();
  #closed = false;

  constructor(options: LocalExecutorOptions) {
    this.#options = options;
  }

  execute(request: ExecuteRequest): Promise<StageRunOutcome> {
    if (this.#closed) return Promise.resolve(err({ reason: 'executor-error', message: 'executor closed' }));
    if (request.signal.aborted) return Promise.resolve(err({ reason: 'interrupted' }));
    const worker = this.#idle.get(request.resources.class)?.pop() ?? this.#spawn(request.resources.class);
    return new Promise<StageRunOutcome>((resolve) => {
      let abortTimer: NodeJS.Timeout | undefined;
      const abort = (): void => {
        this.#send(worker, { type: 'abort' });
        abortTimer = setTimeout(() => {
          if (!worker.exited && worker.child.pid !== undefined) killTree(worker.child.pid, 'SIGKILL');
        }, ABORT_GRACE_MS);
      };
      const seq = ++worker.seq;
      worker.job = {
        request,
        seq,
        marker: outputEndMarker(seq),
        outcome: null,
        streamsDone: { stdout: false, stderr: false },
        resolve: (outcome) => {
          unsubscribe();
          if (abortTimer) clearTimeout(abortTimer);
          worker.job = null;
          if (!worker.exited && !this.#closed && !request.signal.aborted) this.#park(worker);
          else this.#retire(worker);
          // aborted: whatever the stage's process said as it went, the stage was interrupted
          resolve(request.signal.aborted && !outcome.ok && outcome.error.reason !== 'interrupted' ? err({ reason: 'interrupted', detail: describeFailure(outcome.error) }) : outcome);
        },
      };
      const unsubscribe = onAbort(request.signal, abort);
      this.#send(worker, { type: 'run', spec: request.spec, seq });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const waits: Promise<void>[] = [];
    for (const w of this.#all) {
      if (w.exited) continue;
      waits.push(w.gone);
      if (w.job) {
        this.#send(w, { type: 'abort' });
        setTimeout(() => w.child.kill('SIGKILL'), ABORT_GRACE_MS).unref();
      } else {
        w.child.disconnect();
        setTimeout(() => w.child.kill('SIGKILL'), 1_000).unref();
      }
    }
    this.#idle.clear();
    await Promise.all(waits);
  }

  #spawn(cls: ResourceClass): Worker {
    const child = fork(this.#options.workerEntry, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: this.#options.execArgv ?? [],
      serialization: 'json',
    });
    let markGone = (): void => undefined;
    const gone = new Promise<void>((res) => (markGone = res));
    const worker: Worker = { child, cls, job: null, exited: false, gone, seq: 0 };
    this.#all.add(worker);
    // text held back because it might be the start of a marker split across two chunks
    const held = { stdout: '', stderr: '' };
    const onText = (stream: 'stdout' | 'stderr', chunk: string): void => {
      const job = worker.job;
      const text = held[stream] + chunk;
      held[stream] = '';
      if (!job || job.streamsDone[stream]) return;
      const at = text.indexOf(job.marker);
      let mine = at < 0 ? text : text.slice(0, at);
      if (at < 0) {
        const keep = partialSuffix(mine, job.marker);
        held[stream] = mine.slice(mine.length - keep);
        mine = mine.slice(0, mine.length - keep);
      }
      if (mine) job.request.onEvent({ type: 'output', stream, text: mine });
      if (at >= 0) {
        job.streamsDone[stream] = true;
        this.#maybeFinish(job);
      }
    };
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => onText('stdout', text));
    child.stderr?.on('data', (text: string) => onText('stderr', text));
    child.on('message', (raw: unknown) => {
      const msg = raw as WorkerReply;
      const job = worker.job;
      if (!job) return;
      if (msg.type === 'event') job.request.onEvent(msg.event);
      else if (msg.type === 'finished') {
        job.outcome = msg.outcome;
        this.#maybeFinish(job);
      }
    });
    child.on('error', () => {
      // surfaced through 'exit'
    });
    // Wait for the exit and for both pipes to drain: the stage's last output is still in them when the process
    // exits. (Not 'close': Node does not emit it for a child whose IPC channel we disconnected.)
    const streamClosed = (stream: NodeJS.ReadableStream | null): Promise<void> =>
      stream ? new Promise((res) => stream.once('close', () => res())) : Promise.resolve();
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((res) => child.once('exit', (code, signal) => res([code, signal])));
    void Promise.all([exited, streamClosed(child.stdout), streamClosed(child.stderr)]).then(([[code, signal]]) => {
      worker.exited = true;
      markGone();
      this.#all.delete(worker);
      this.#unpark(worker);
      const job = worker.job;
      if (job) {
        const how = signal
          ? `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory, or killed from outside)' : ''}`
          : `exited with code ${code}`;
        job.resolve(err({ reason: 'worker-died', message: `stage worker process ${how}` }));
      }
    });
    return worker;
  }

  #maybeFinish(job: Job): void {
    if (job.outcome && job.streamsDone.stdout && job.streamsDone.stderr) job.resolve(job.outcome);
  }

  #send(worker: Worker, msg: WorkerRequest): void {
    if (!worker.exited && worker.child.connected) worker.child.send(msg);
  }

  #park(worker: Worker): void {
    const list = this.#idle.get(worker.cls) ?? [];
    list.push(worker);
    this.#idle.set(worker.cls, list);
  }

  #unpark(worker: Worker): void {
    const list = this.#idle.get(worker.cls);
    if (!list) return;
    const i = list.indexOf(worker);
    if (i >= 0) list.splice(i, 1);
  }

  #retire(worker: Worker): void {
    this.#unpark(worker);
    if (!worker.exited) {
      if (worker.child.connected) worker.child.disconnect();
      setTimeout(() => {
        if (!worker.exited) worker.child.kill('SIGKILL');
      }, 1_000).unref();
    }
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker`. */
function partialSuffix(text: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--) if (text.endsWith(marker.slice(0, n))) return n;
  return 0;
}
