/**
 * `wsflow watch`: reruns what went stale when pipeline.yaml or a dep changes; does not retry a failed stage until
 * something it depends on changes; stops on Ctrl-C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rig } from '../../helpers/rig.js';

const pipeline = (text: string, fail: boolean, comment = ''): string => `${comment}
params: { text: "${text}", fail: ${fail} }
stages:
  a:
    uses: ./kinds/write.js
    with: { text: "\${params.text}" }
  b:
    uses: ./kinds/write.js
    needs: { in: a }
    with: { text: b, fail: "\${params.fail}" }
  c:
    cmd: "cat input.txt > c.txt"
    deps: [input.txt]
    outs: [c.txt]
`;

void test('watch reruns stale stages on change, does not retry an unchanged failure, and stops on Ctrl-C', async () => {
  const rig = new Rig({ files: { 'pipeline.yaml': pipeline('one', false), 'input.txt': 'v1' } });
  const watch = rig.spawn(['watch', '--debounce', '150']);
  const count = (id: string): number => rig.invocations().filter((x) => x === id).length;
  try {
    await rig.until(() => rig.exists('out/b/result.txt') && rig.exists('c.txt') && watch.output().includes('Watching'), 'the first run');
    assert.equal(count('a'), 1);

    rig.write('pipeline.yaml', pipeline('two', false));
    await rig.until(() => rig.exists('out/a/result.txt') && rig.read('out/a/result.txt') === 'two', 'a to rerun');
    await rig.until(() => count('b') === 2, 'b to rerun');

    rig.write('input.txt', 'v2');
    await rig.until(() => rig.exists('c.txt') && rig.read('c.txt') === 'v2', 'the cmd stage to rerun on its dep');

    rig.write('pipeline.yaml', pipeline('two', true));
    await rig.until(() => /✗ b failed/.test(watch.output()), 'b to fail');
    const failedRuns = count('b');
    // a change that does not touch b's key: b is not retried
    rig.write('pipeline.yaml', pipeline('two', true, '# just a comment'));
    await rig.until(() => /○ b {2}failed earlier, nothing changed since; not retried/.test(watch.output()), 'the not-retried notice');
    assert.equal(count('b'), failedRuns);
    // fixed (back to the key whose result out/ still holds: a failure never touches out/): b is fresh again
    rig.write('pipeline.yaml', pipeline('two', false));
    await rig.until(() => /Everything up to date/.test(watch.output().slice(watch.output().lastIndexOf('✗ b failed'))), 'the fixed pipeline to be up to date');
    // the failing key again: still remembered, not retried; until its kind's module changes
    rig.write('pipeline.yaml', pipeline('two', true));
    await rig.until(() => (watch.output().match(/not retried/g) ?? []).length === 2, 'the second not-retried notice');
    const kind = rig.read('kinds/write.js');
    rig.write('kinds/write.js', `${kind}\n// edited\n`);
    await rig.until(() => (watch.output().match(/✗ b failed/g) ?? []).length === 2, 'b to be retried after its kind module changed');
    assert.equal(count('a'), 2, 'a never reran needlessly');

    process.kill(watch.pid ?? 0, 'SIGINT');
    const r = await watch.result;
    assert.equal(r.code, 0, r.stderr);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- watch output ---\n${watch.output()}`, { cause: err });
  } finally {
    if (watch.exitCode === null) process.kill(-(watch.pid ?? 0), 'SIGKILL');
    rig.cleanup();
  }
});

void test('watch takes the run options: --retries reruns a flaky stage within the cycle', async () => {
  const rig = new Rig({
    files: { 'pipeline.yaml': `stages:\n  flaky:\n    uses: ./kinds/flaky.js\n    with: { text: ok, failures: 1 }\n` },
  });
  const watch = rig.spawn(['watch', '--retries', '1', '--debounce', '150']);
  try {
    await rig.until(() => watch.output().includes('Watching'), 'the first run');
    assert.match(watch.output(), /↻ flaky failed after \S+: Error: flaky flaked on attempt 1; retry 1\/1/);
    assert.match(watch.output(), /✓ flaky/);
    assert.equal(rig.read('out/flaky/result.txt'), 'ok');
    process.kill(watch.pid ?? 0, 'SIGINT');
    const r = await watch.result;
    assert.equal(r.code, 0, r.stderr);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- watch output ---\n${watch.output()}`, { cause: err });
  } finally {
    if (watch.exitCode === null) process.kill(-(watch.pid ?? 0), 'SIGKILL');
    rig.cleanup();
  }
});
