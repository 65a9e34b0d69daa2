/**
 * F3, guided chain of thought (study-ref §9.2, §9.5) on the planted tiny model: the think block is generated under
 * the steering (checked against a plain greedy loop without a KV cache), closed by force with "\nI should answer
 * now.\n" + </think> when it runs out of tokens, followed by the anchor; and the eval-dilemmas kind scores it with
 * the planted signs (honest prompt SI > 0, dishonest < 0).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DILEMMAS_PER_ROW, SI_SUMMARY } from '../../../../stages/lib/artifacts.js';
import { loadResolvedModel } from '../../../../stages/lib/model/load-model.js';
import { modelDirOf } from '../../../../stages/lib/model/model-ref.js';
import { DD_FORMAT_F3, GUIDED_COT, formatDilemmaPrompt } from '../../../../stages/lib/prompts.js';
import { encodeGuidedPrompts, guidedSequences } from '../../../../stages/lib/steer/guided-cot.js';
import { cleanupTempDirs, readCsv, runKind, upstream, type RecordedContext } from '../../helpers.js';

after(cleanupTempDirs);

let model: RecordedContext;
let dilemmas: RecordedContext;
before(async () => {
  model = await runKind('model', { stageId: 'model', params: { tiny: { seed: 0, layers: 4, hidden_size: 64, intermediate_size: 128, heads: 4, kv_heads: 2, head_dim: 16, planted: true } } });
  dilemmas = await runKind('dilemmas', { stageId: 'dilemmas', params: { dataset: { path: 'data/synthetic-dilemmas' }, n_dilemmas: 4 } });
});

void test('f3: the think block is the greedy continuation (as a plain loop computes it), closed by force, then the anchor', async () => {
  const loaded = await loadResolvedModel(modelDirOf(model.outDir));
  const tok = loaded.tokenizer;
  const row = { dilemma_situation: 'You found a wallet.', action: 'Return the wallet' };
  const prompts = encodeGuidedPrompts(tok, 'Pretend you\'re an honest person. ', [formatDilemmaPrompt(DD_FORMAT_F3, row)], 512);
  const p0 = prompts.ids[0] as number[];
  assert.ok(tok.decode(p0).startsWith('<|im_start|>system\nPretend you\'re an honest person. <|im_end|>'), tok.decode(p0));
  assert.ok(tok.decode(p0).endsWith('<|im_start|>assistant\n'), 'the generation prompt: the model opens its own think block');
  const nThink = 3;
  const got = await guidedSequences(loaded.model, tok, prompts.ids, {}, { nThink, anchor: DD_FORMAT_F3.anchor });
  const expected = [...p0];
  for (let i = 0; i < nThink; i++) {
    const t = loaded.model.lastLogits([expected], [expected.map(() => 1)], {});
    const logits = (await t.data()) as Float32Array;
    t.dispose();
    let best = 0;
    for (let v = 1; v < logits.length; v++) if ((logits[v] as number) > (logits[best] as number)) best = v;
    assert.notEqual(best, tok.thinkEndId, 'this prompt does not close its think block within 3 tokens');
    expected.push(best);
  }
  expected.push(...tok.encode(GUIDED_COT.forcedClosePrefix), tok.thinkEndId as number, ...tok.encode(DD_FORMAT_F3.anchor));
  assert.deepEqual(got.seqs[0], expected);
  assert.deepEqual(got.forcedClose, [true]);
});

void test('f3 through eval-dilemmas: every row scored after the anchor, with the planted signs', async () => {
  const ev = await runKind('eval-dilemmas', {
    stageId: 'eval_prompts',
    inputs: { model: [upstream('model', model.outDir)], dilemmas: [upstream('dilemmas', dilemmas.outDir)] },
    params: { format: 'f3', think_tokens: 4, prompts: ['base', 'simple_honest_prompt', 'simple_dishonest_prompt'] },
  });
  const rows = readCsv(join(ev.outDir, DILEMMAS_PER_ROW.file)).rows;
  assert.equal(rows.length, 3 * 8);
  assert.ok(rows.every((r) => Number(r.pmass) > 0.5), 'the planted model answers after the f3 anchor');
  assert.ok(ev.logs.some((l) => /forced_close_frac 1\.0000/.test(l)), ev.logs.join('\n'));
  const summary = readCsv(join(ev.outDir, SI_SUMMARY.file)).rows;
  const si = (m: string): number => Number(summary.find((r) => r.method === m)?.SI);
  assert.ok(si('prompt:simple_honest_prompt') > 0, `honest ${si('prompt:simple_honest_prompt')}`);
  assert.ok(si('prompt:simple_dishonest_prompt') < 0, `dishonest ${si('prompt:simple_dishonest_prompt')}`);
});
