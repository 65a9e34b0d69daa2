/**
 * The planted tiny model (src/core/planted-honesty.ts): its token choices agree with what the evaluation scores and
 * what the synthetic dilemmas say, and it is generated deterministically by the model kind. The signs it produces
 * through the whole chain are test/pipeline-study/planted-signs.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadTokenizer } from '../../../src/core/tokenizer.js';
import { qwen3TokenizerFilesDir, tinyQwen3Config, writeTinyQwen3 } from '../../../src/core/tiny-qwen3.js';
import { ACTION_LEXICON, checkPlantable, PERSONA_LEXICON, plantedTokens } from '../../../src/core/planted-honesty.js';
import { choiceIds } from '../../../stages/lib/choice-ids.js';
import { DD_FORMATS, formatDilemmaPrompt, PROMPTS_V3, type DilemmaFormatName } from '../../../stages/lib/prompts.js';
import { cleanupTempDirs, REPO_ROOT, runKind, tempDir } from '../helpers.js';

after(cleanupTempDirs);

const tok = loadTokenizer(qwen3TokenizerFilesDir());
const tokens = plantedTokens(qwen3TokenizerFilesDir());

function lexiconSum(text: string): number {
  return tok.encode(text).reduce((s, id) => s + (tokens.action.get(id) ?? 0), 0);
}

void test('the planted Yes/No tokens are exactly the ids the evaluation scores (latest rule)', () => {
  const ids = choiceIds(tok.getVocab(), { rule: 'latest' });
  assert.deepEqual(tokens.yes, ids.yesIds);
  assert.deepEqual(tokens.no, ids.noIds);
  assert.equal(tokens.persona.size, Object.keys(PERSONA_LEXICON).length);
  assert.equal(tokens.action.size, Object.keys(ACTION_LEXICON).length);
});

void test('every synthetic dilemma row reads, in every format, with the sign of its honesty_label; the prompt baselines carry no action words', () => {
  const rows = readFileSync(join(REPO_ROOT, 'data', 'synthetic-dilemmas', 'test.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { dilemma_idx: number; action: string; dilemma_situation: string; honesty_label: number });
  assert.equal(rows.length, 48);
  for (const f of Object.keys(DD_FORMATS) as DilemmaFormatName[]) {
    for (const r of rows) assert.equal(Math.sign(lexiconSum(formatDilemmaPrompt(DD_FORMATS[f], r))), r.honesty_label, `${f} dilemma ${r.dilemma_idx}: ${r.action}`);
  }
  for (const [name, text] of Object.entries(PROMPTS_V3)) assert.equal(lexiconSum(text), 0, name);
});

void test('the persona words of the honesty personas are planted with their side', () => {
  for (const [word, side] of Object.entries(PERSONA_LEXICON)) {
    const ids = tok.encode(word);
    assert.equal(ids.length, 1, word);
    assert.equal(tokens.persona.get(ids[0] as number), side, word);
  }
});

void test('the model kind generates the planted model deterministically, and only where asked', async () => {
  const tiny = { seed: 0, layers: 4, hidden_size: 64, intermediate_size: 128, heads: 4, kv_heads: 2, head_dim: 16 };
  const sha = (dir: string): string => createHash('sha256').update(readFileSync(join(dir, 'model.safetensors'))).digest('hex');
  const a = await runKind('model', { params: { tiny: { ...tiny, planted: true } } });
  const b = await runKind('model', { params: { tiny: { ...tiny, planted: true } } });
  const plain = await runKind('model', { params: { tiny } });
  assert.equal(sha(a.outDir), sha(b.outDir));
  assert.notEqual(sha(a.outDir), sha(plain.outDir));
  assert.match(a.annotations.get('model') as string, /planted honesty/);
  assert.doesNotMatch(plain.annotations.get('model') as string, /planted/);
});

void test('a model too small to plant into is refused with the reason', () => {
  assert.match(checkPlantable(tinyQwen3Config({ hiddenSize: 4 })) ?? '', /hidden_size ≥ 8/);
  assert.throws(() => writeTinyQwen3(join(tempDir(), 'm'), { seed: 0, hiddenSize: 4, numHeads: 1, numKvHeads: 1, headDim: 4, planted: true }), /hidden_size ≥ 8/);
});
