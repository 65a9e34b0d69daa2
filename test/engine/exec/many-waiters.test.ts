/**
 * Many stages waiting on one run's signals (a slot of a resource class, another run's lease, running workers)
 * add one 'abort' listener per signal, not one each: no MaxListenersExceededWarning with 30 stages queued on the
 * accel slot, twelve running at once, or twelve waiting for another run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Slots } from '../../../src/engine/exec/slots.js';
import { onAbort, sleepUnlessAborted } from '../../../src/engine/exec/on-abort.js';
import { Rig } from '../../helpers/rig.js';

void test('Slots: fifty waiters on one signal hold one abort listener, released as they are served', async () => {
  const slots = new Slots(1);
  const controller = new AbortController();
  assert.equal(await slots.acquire(0, controller.signal), true);
  const waits = Array.from({ length: 50 }, (_, i) => slots.acquire(i, controller.signal));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  slots.release();
  assert.equal(await waits[0], true);
  controller.abort();
  const rest = await Promise.all(waits.slice(1));
  assert.deepEqual(new Set(rest), new Set([false]));
  assert.equal(slots.inUse, 1, 'only the granted waiter holds a slot');
});

void test('onAbort: callbacks run once on abort; unsubscribed ones do not; sleepUnlessAborted wakes early', async () => {
  const controller = new AbortController();
  const calls: string[] = [];
  const cb = (): void => void calls.push('a');
  onAbort(controller.signal, cb);
  const offB = onAbort(controller.signal, cb);
  const offC = onAbort(controller.signal, () => calls.push('c'));
  offC();
  void offB;
  const started = Date.now();
  const sleeping = sleepUnlessAborted(10_000, controller.signal);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  await sleeping;
  assert.ok(Date.now() - started < 1_000);
  assert.deepEqual(calls, ['a', 'a']);
  controller.signal.dispatchEvent(new Event('abort'));
  assert.deepEqual(calls, ['a', 'a'], 'once');
});

function parallelPipeline(n: number, cls: 'accel' | 'cpu', gate?: string): string {
  const lines = ['stages:'];
  const gateParam = gate === undefined ? '' : `, gate: "${gate}"`;
  for (let i = 0; i < n; i++) {
    lines.push(`  s${i}:`, '    uses: ./kinds/write.js', `    with: { text: "s${i}"${gateParam} }`, `    resources: { class: ${cls} }`);
  }
  return `${lines.join('\n')}\n`;
}

const WARNING = /MaxListenersExceededWarning|memory leak/;

void test('30 stages queued on the accel slot: no listener warning', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': parallelPipeline(30, 'accel') } });
  try {
    const r = await rig.exec(['run']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /30 executed/);
    assert.doesNotMatch(r.stderr, WARNING);
  } finally {
    rig.cleanup();
  }
});

void test('12 stages running at once, and a second run waiting for all 12: no listener warning', async () => {
  // The first run's stages finish only once the test writes `release`, after the second run has said it waits for
  // every one of them: a loaded machine cannot let a stage finish before the second run gets to wait for it.
  const rig = new Rig({ files: { 'pipeline.yaml': parallelPipeline(12, 'cpu', 'release') } });
  try {
    const first = rig.spawn(['run', '-j', '12']);
    await rig.until(() => rig.invocations().length === 12, 'all 12 stages to start');
    const secondChild = rig.spawn(['run', '-j', '12']);
    await rig.until(() => (secondChild.output().match(/… waiting for s\d+/g) ?? []).length === 12, 'the second run to wait for all 12');
    rig.write('release', '');
    const second = await secondChild.result;
    const a = await first.result;
    assert.equal(a.code, 0, a.stdout + a.stderr);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal((second.stdout.match(/… waiting for s\d+/g) ?? []).length, 12, second.stdout);
    assert.doesNotMatch(a.stderr, WARNING);
    assert.doesNotMatch(second.stderr, WARNING);
  } finally {
    rig.cleanup();
  }
});
