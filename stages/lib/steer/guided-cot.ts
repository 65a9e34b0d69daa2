/**
 * F3, guided chain of thought (study-ref §9.2, §9.5 `guided_rollout_batch`): the prompt is `[system if non-empty,
 * user]` with the generation prompt, so the model opens its think block; under the same steering it greedily
 * generates up to n_think tokens with `</think>` as the stop token; a row that closed its think block gets the
 * anchor appended after `</think>`, one that did not gets "\nI should answer now.\n" + `</think>` + the anchor
 * (forced close). The Yes/No token is then scored after the anchor, as for F1/F2.
 */
import { generate } from '../../../src/core/generate.js';
import type { Qwen3Model } from '../../../src/core/qwen3/model.js';
import type { ChatMessage, Tokenizer } from '../../../src/core/tokenizer.js';
import type { ForwardOptions } from '../../../src/core/qwen3/model.js';
import { GUIDED_COT } from '../prompts.js';
import { encodeForGeneration } from './chat-inputs.js';

export interface GuidedSettings {
  /** tokens the think block may take before it is closed by force (the study: 128) */
  nThink: number;
  anchor: string;
}

/** The conversation F3 generates from: the system message only when non-empty. */
export function guidedConversation(systemPrompt: string, userText: string): ChatMessage[] {
  return systemPrompt === '' ? [{ role: 'user', content: userText }] : [{ role: 'system', content: systemPrompt }, { role: 'user', content: userText }];
}

export interface GuidedSequences {
  /** prompt + think tokens + anchor, ready to score at the last position */
  seqs: number[][];
  /** rows whose think block was closed by force */
  forcedClose: boolean[];
}

export function encodeGuidedPrompts(tok: Tokenizer, systemPrompt: string, userTexts: readonly string[], maxLength: number): { ids: number[][]; truncatedRows: number } {
  let truncatedRows = 0;
  const ids = userTexts.map((u) => {
    const e = encodeForGeneration(tok, guidedConversation(systemPrompt, u), maxLength);
    if (e.truncated > 0) truncatedRows++;
    return e.ids;
  });
  return { ids, truncatedRows };
}

/** Generate the think blocks under `forward` (the steering in force) and append the anchor to each row. */
export async function guidedSequences(model: Qwen3Model, tok: Tokenizer, prompts: readonly (readonly number[])[], forward: ForwardOptions, s: GuidedSettings, signal?: AbortSignal): Promise<GuidedSequences> {
  const close = tok.thinkEndId;
  if (close === null) throw new Error('format f3 needs a tokenizer with a </think> token (Qwen3 has one)');
  if (model.config.eosTokenIds.includes(close)) throw new Error('format f3: </think> is the model’s end-of-sequence token, so the think block cannot be told from the answer');
  const pad = tok.padTokenId ?? tok.eosTokenId ?? close;
  const { positionIds: _ignored, ...steer } = forward;
  const gen = await generate(model, prompts, { doSample: false, maxNewTokens: s.nThink, stopTokenIds: [close], padTokenId: pad, forward: steer, ...(signal ? { signal } : {}) });
  const anchor = tok.encode(s.anchor);
  const forcedPrefix = tok.encode(GUIDED_COT.forcedClosePrefix);
  const seqs: number[][] = [];
  const forcedClose: boolean[] = [];
  prompts.forEach((p, i) => {
    const think = gen.tokens[i] as number[];
    const closed = gen.stopped[i] === true;
    seqs.push(closed ? [...p, ...think, ...anchor] : [...p, ...think, ...forcedPrefix, close, ...anchor]);
    forcedClose.push(!closed);
  });
  return { seqs, forcedClose };
}
