/**
 * `wsflow status` on a `cmd:` stage whose spliced value changes: the param reason alone, also when the value moves
 * between a bare word and a shell-quoted one (`hi` ↔ `'a b'`), holds a `'`, or is spliced raw (`${raw:…}`). A real
 * edit of the command text is still reported. Through the real CLI and pipeline loader.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Rig } from '../../helpers/rig.js';

const PIPELINE = (cmd: string): string => `params:
  msg: hi
  flag: --x
stages:
  say:
    cmd: ${cmd}
    outs: [out.txt]
`;
const CMD = 'echo ${params.msg} ${raw:params.flag} > out.txt';

interface StatusJson {
  stages: { id: string; reasons: { type: string; text: string }[] }[];
}

const rig = new Rig({ files: { 'pipeline.yaml': PIPELINE(CMD) } });
after(() => rig.cleanup());

async function reasonTypes(args: readonly string[]): Promise<string[]> {
  const r = await rig.exec(['status', '--json', ...args]);
  assert.equal(r.code, 1, `status exits 1 when stale: ${r.stderr}`);
  const say = (JSON.parse(r.stdout) as StatusJson).stages.find((s) => s.id === 'say');
  assert.ok(say, r.stdout);
  return say.reasons.map((x) => x.type);
}

async function run(args: readonly string[]): Promise<void> {
  const r = await rig.exec(['run', ...args]);
  assert.equal(r.code, 0, r.stderr);
}

void test('a param spliced into cmd: is one reason, whatever quoting its old and new values need', async () => {
  await run([]);
  assert.equal(rig.read('out.txt'), 'hi --x\n');
  // bare → quoted, and a value holding a quote
  assert.deepEqual(await reasonTypes(['-S', 'msg=a b']), ['param-changed']);
  assert.deepEqual(await reasonTypes(['-S', "msg=it's"]), ['param-changed']);
  // raw splice: the text as is
  assert.deepEqual(await reasonTypes(['-S', 'flag=--y z']), ['param-changed']);
  assert.deepEqual(await reasonTypes(['-S', 'msg=a b', '-S', 'flag=--y z']), ['param-changed', 'param-changed']);

  // quoted → bare and quoted → quoted, from a run whose value needed quotes
  await run(['-S', "msg=it's a b"]);
  assert.equal(rig.read('out.txt'), "it's a b --x\n");
  assert.equal((await rig.exec(['status', '-S', "msg=it's a b"])).code, 0, 'fresh with the value it ran with');
  assert.deepEqual(await reasonTypes([]), ['param-changed']);
  assert.deepEqual(await reasonTypes(['-S', 'msg=x y']), ['param-changed']);
});

void test('an edit of the command text itself is still reported next to the param', async () => {
  await run([]);
  rig.write('pipeline.yaml', PIPELINE(`${CMD} && echo more >> out.txt`));
  const types = await reasonTypes(['-S', 'msg=a b']);
  assert.ok(types.includes('cmd-changed'), types.join(', '));
  assert.ok(types.includes('param-changed'), types.join(', '));
  rig.write('pipeline.yaml', PIPELINE(CMD));
});
