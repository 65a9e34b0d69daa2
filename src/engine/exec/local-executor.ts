/**
 * The local executor: a pool of forked worker processes per resource class. A worker that finished a stage
 * is kept for the next stage of the same class (an ML stage can reuse the model its predecessor loaded); one that
 * crashed is discarded and the stage reported as failed with the exit code or signal (an OOM kill shows SIGKILL).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { ResourceClass } from '../stage-kind.js';
import type { ExecuteRequest, StageExecutor } from './executor.js';
import type { StageRunOutcome, WorkerReply, WorkerRequest } from './stage-spec.js';
import { killTree } from './process-util.js';

const ABORT_GRACE_MS = 5_000;

interface Worker {
  child: ChildProcess;
  cls: ResourceClass;
  /** the request being served, null when idle */
  job: { request: ExecuteRequest; resolve(outcome: StageRunOutcome): void } | null;
  exited: boolean;
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
    if (this.#closed) return Promise.resolve({ ok: false, error: 'executor closed' });
    if (request.signal.aborted) return Promise.resolve({ ok: false, error: 'interrupted', interrupted: true });
    const worker = this.#idle.get(request.resources.class)?.pop() ?? this.#spawn(request.resources.class);
    return new Promise<StageRunOutcome>((resolve) => {
      let abortTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        this.#send(worker, { type: 'abort' });
        abortTimer = setTimeout(() => {
          if (!worker.exited && worker.child.pid !== undefined) killTree(worker.child.pid, 'SIGKILL');
        }, ABORT_GRACE_MS);
      };
      worker.job = {
        request,
        resolve: (outcome) => {
          request.signal.removeEventListener('abort', onAbort);
          if (abortTimer) clearTimeout(abortTimer);
          worker.job = null;
          if (!worker.exited && !this.#closed && !request.signal.aborted) this.#park(worker);
          else this.#retire(worker);
          resolve(request.signal.aborted && !outcome.ok ? { ...outcome, interrupted: true } : outcome);
        },
      };
      request.signal.addEventListener('abort', onAbort, { once: true });
      this.#send(worker, { type: 'run', spec: request.spec });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const waits: Promise<void>[] = [];
    for (const w of this.#all) {
      if (w.exited) continue;
      waits.push(new Promise((res) => w.child.once('exit', () => res())));
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
    const worker: Worker = { child, cls, job: null, exited: false };
    this.#all.add(worker);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => worker.job?.request.onEvent({ type: 'output', stream: 'stdout', text }));
    child.stderr?.on('data', (text: string) => worker.job?.request.onEvent({ type: 'output', stream: 'stderr', text }));
    child.on('message', (raw: unknown) => {
      const msg = raw as WorkerReply;
      if (msg.type === 'event') worker.job?.request.onEvent(msg.event);
      else if (msg.type === 'finished') worker.job?.resolve(msg.outcome);
    });
    child.on('error', () => {
      // surfaced through 'exit'
    });
    child.on('exit', (code, signal) => {
      worker.exited = true;
      this.#all.delete(worker);
      this.#unpark(worker);
      const job = worker.job;
      if (job) {
        const how = signal
          ? `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory, or killed from outside)' : ''}`
          : `exited with code ${code}`;
        job.resolve({ ok: false, error: `stage worker process ${how}` });
      }
    });
    return worker;
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
