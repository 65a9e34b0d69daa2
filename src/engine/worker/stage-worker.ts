/**
 * Entry point of a local worker process (forked by the local executor). Runs one stage at a time on request and
 * stays alive for the next one, so module-level state of stage code (a loaded model) can be reused. Exits when
 * its parent goes away, taking any command it started with it.
 */
import { runStageSpec } from '../exec/run-stage-spec.js';
import { outputEndMarker, type StageRunEvent, type WorkerReply, type WorkerRequest } from '../exec/stage-spec.js';

let current: AbortController | null = null;

function send(msg: WorkerReply): void {
  if (process.connected) process.send?.(msg);
}

// The scheduler owns interruption: it asks us to abort. A terminal Ctrl-C reaches us too, and must not kill us
// before we report, so both signals only abort the current stage.
process.on('SIGINT', () => current?.abort());
process.on('SIGTERM', () => current?.abort());

process.on('disconnect', () => {
  // parent died (kill -9 of `wsflow run`): stop the stage's commands and leave; nothing of ours is committed
  current?.abort();
  setTimeout(() => process.exit(1), 200).unref();
});

process.on('message', (raw: unknown) => {
  const msg = raw as WorkerRequest;
  if (msg.type === 'abort') {
    current?.abort();
    return;
  }
  if (current) {
    send({ type: 'finished', outcome: { ok: false, error: { reason: 'executor-error', message: 'worker is busy' } } });
    return;
  }
  const controller = new AbortController();
  current = controller;
  const emit = (event: StageRunEvent): void => send({ type: 'event', event });
  void runStageSpec(msg.spec, emit, controller.signal).then(async (outcome) => {
    const marker = outputEndMarker(msg.seq);
    await Promise.all([
      new Promise<void>((res) => process.stdout.write(marker, () => res())),
      new Promise<void>((res) => process.stderr.write(marker, () => res())),
    ]);
    current = null;
    send({ type: 'finished', outcome });
  });
});

send({ type: 'ready' });
