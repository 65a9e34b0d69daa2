/**
 * The loggers consume engine events only: a live progress footer on a TTY, plain event lines elsewhere, colour
 * only when wanted (NO_COLOR), JSON lines for --json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ConsoleLogger, jsonLinesSink } from '../../../src/cli/loggers/console-logger.js';
import { colorWanted } from '../../../src/cli/loggers/style.js';
import { Rig } from '../../helpers/rig.js';

class Capture extends Writable {
  text = '';
  isTTY: boolean;
  columns = 100;
  constructor(isTTY: boolean) {
    super();
    this.isTTY = isTTY;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void test('on a TTY a running stage gets a live progress bar that is cleared before each event line', async () => {
  const out = new Capture(true);
  const logger = new ConsoleLogger({ out, color: false, live: true, verbose: false });
  logger.sink({ type: 'stage-start', stageId: 'train@lora', executionId: 1, resource: 'accel', reasons: [] });
  logger.sink({ type: 'stage-annotate', stageId: 'train@lora', key: 'backend', value: 'wasm' });
  logger.sink({ type: 'stage-progress', stageId: 'train@lora', update: { done: 5, total: 10, unit: 'steps', message: 'loss 0.42' } });
  await sleep(250);
  assert.match(out.text, /train@lora {2}\S+ \[wasm\] {2}█{10}░{10} 5\/10 steps {2}eta \S+ {2}loss 0\.42/);
  logger.sink({ type: 'stage-succeeded', stageId: 'train@lora', executionId: 1, durationMs: 42_100, backend: 'wasm', outputUnchanged: false });
  const ESC = String.fromCharCode(27);
  assert.ok(out.text.endsWith(`${ESC}[1A${ESC}[J✓ train@lora  42.1s  [wasm]\n`), 'footer erased, then the event line');
  logger.stop();
});

void test('off a TTY only event lines are written, without colour or cursor control', () => {
  const out = new Capture(false);
  const logger = new ConsoleLogger({ out, color: false, live: false, verbose: false });
  logger.sink({ type: 'stage-start', stageId: 'a', executionId: 1, resource: 'cpu', reasons: [{ type: 'never-run' }] });
  logger.sink({ type: 'stage-progress', stageId: 'a', update: { done: 1, total: 2 } });
  logger.sink({
    type: 'stage-restored',
    stageId: 'b',
    fromRunId: 12,
    fromExecutionId: 3,
    producedAt: Date.now() - 3 * 3_600_000,
    savedMs: 14 * 60_000,
    reasons: [],
  });
  logger.sink({ type: 'stage-waiting', stageId: 'c', holderPid: 1234, holderHost: 'gpu-3', holderRunId: 7 });
  assert.equal(
    out.text,
    '▶ a  ← never run\n↺ restored b from cache (run #12, 3h ago, saved 14m00s)\n… waiting for c (running in pid 1234 on gpu-3, run #7)\n',
  );
  assert.ok(!out.text.includes(String.fromCharCode(27)), 'no escape sequences');
});

void test('NO_COLOR turns colour off even on a TTY', () => {
  const saved = process.env.NO_COLOR;
  try {
    process.env.NO_COLOR = '1';
    assert.equal(colorWanted({ isTTY: true }), false);
    delete process.env.NO_COLOR;
    assert.equal(colorWanted({ isTTY: true }), !process.env.FORCE_COLOR || process.env.FORCE_COLOR !== '0');
    assert.equal(colorWanted({ isTTY: false }), Boolean(process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0'));
  } finally {
    if (saved === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = saved;
  }
});

void test('run --json prints one JSON event per line', async () => {
  const out = new Capture(false);
  jsonLinesSink(out)({ type: 'stage-fresh', stageId: 'x' });
  assert.equal(out.text, '{"type":"stage-fresh","stageId":"x"}\n');
  const rig = new Rig({ files: { 'pipeline.yaml': 'stages:\n  a: { uses: ./kinds/write.js, with: { text: a } }\n' } });
  try {
    const r = await rig.exec(['run', '--json']);
    assert.equal(r.code, 0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; backend?: string });
    assert.deepEqual(
      events.map((e) => e.type),
      ['run-start', 'stage-start', 'stage-annotate', 'stage-log', 'stage-succeeded', 'run-end'],
    );
    assert.equal(events[4]?.backend, 'test');
  } finally {
    rig.cleanup();
  }
});

void test('a failure is rendered from its reason: the line, and in JSON the reason with the line beside it', () => {
  const out = new Capture(false);
  const logger = new ConsoleLogger({ out, color: false, live: false, verbose: false });
  const failed = { stageId: 's', executionId: 3, durationMs: 1200, logPath: null, logTail: [] };
  logger.sink({ type: 'stage-failed', ...failed, failure: { reason: 'exit-status', status: 7 } });
  logger.sink({ type: 'stage-retry', ...failed, failure: { reason: 'signal', signal: 'SIGKILL' }, retry: { n: 1, of: 2 } });
  logger.sink({ type: 'stage-failed', ...failed, failure: { reason: 'failed-elsewhere', runId: 4, message: 'Error: boom' } });
  logger.stop();
  assert.match(out.text, /✗ s failed after 1\.2s: command exited with status 7\n/);
  assert.match(out.text, /↻ s failed after 1\.2s: command killed by SIGKILL; retry 1\/2\n/);
  assert.match(out.text, /✗ s failed after 1\.2s: failed in run #4: Error: boom\n/);
  const json = new Capture(false);
  jsonLinesSink(json)({ type: 'stage-failed', ...failed, failure: { reason: 'interrupted', detail: 'stage worker process exited with code 1' } });
  const line = JSON.parse(json.text) as { failure: unknown; error: string };
  assert.deepEqual(line.failure, { reason: 'interrupted', detail: 'stage worker process exited with code 1' });
  assert.equal(line.error, 'stage worker process exited with code 1');
});
