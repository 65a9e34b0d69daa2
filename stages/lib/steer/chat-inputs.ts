/**
 * Token ids of the study's chat-templated inputs.
 *
 * Truncation keeps the END of a sequence (the reference sets `truncation_side = "left"` for the daily-dilemmas
 * prompts so the anchor survives; for the RepE and KL inputs we do the same, so that the scored suffix is what is
 * kept, where the reference's default right truncation would cut it — with inputs under the limit, as the shipped
 * pool's are, both give the same ids).
 */
import type { ChatMessage, Tokenizer } from '../../../src/core/tokenizer.js';

export interface EncodedInput {
  ids: number[];
  /** tokens dropped from the front by truncation */
  truncated: number;
  /** true when the think-block fix inserted `</think>\n\n` */
  thinkClosed: boolean;
}

/** Keep the last maxLength ids. */
export function truncateLeft(ids: readonly number[], maxLength: number): { ids: number[]; truncated: number } {
  if (!(Number.isInteger(maxLength) && maxLength >= 1)) throw new Error(`max_length must be a positive integer, got ${maxLength}`);
  if (ids.length <= maxLength) return { ids: [...ids], truncated: 0 };
  return { ids: ids.slice(ids.length - maxLength), truncated: ids.length - maxLength };
}

/**
 * study-ref §9.3 think handling: if the ids contain `<think>` but no `</think>`, insert the `</think>` token (as an id:
 * tokenising the text would split it) and the tokens of "\n\n" right after the last `<think>`.
 */
export function closeOpenThink(tok: Tokenizer, ids: readonly number[]): { ids: number[]; changed: boolean } {
  const open = tok.thinkStartId;
  const close = tok.thinkEndId;
  if (open === null || close === null) return { ids: [...ids], changed: false };
  const last = ids.lastIndexOf(open);
  if (last < 0 || ids.includes(close)) return { ids: [...ids], changed: false };
  return { ids: [...ids.slice(0, last + 1), close, ...tok.encode('\n\n'), ...ids.slice(last + 1)], changed: true };
}

/** A conversation whose final (assistant) message is continued: the scored / teacher-forced inputs. */
export function encodeContinued(tok: Tokenizer, messages: readonly ChatMessage[], maxLength: number, opts: { closeThink?: boolean } = {}): EncodedInput {
  const text = tok.applyChatTemplate(messages, { continueFinalMessage: true });
  const t = truncateLeft(tok.encode(text), maxLength);
  if (opts.closeThink === false) return { ids: t.ids, truncated: t.truncated, thinkClosed: false };
  const fixed = closeOpenThink(tok, t.ids);
  return { ids: fixed.ids, truncated: t.truncated, thinkClosed: fixed.changed };
}

/** A conversation ending with the assistant header, for generation (add_generation_prompt). */
export function encodeForGeneration(tok: Tokenizer, messages: readonly ChatMessage[], maxLength: number, suffixText = ''): EncodedInput {
  const text = tok.applyChatTemplate(messages, { addGenerationPrompt: true }) + suffixText;
  const t = truncateLeft(tok.encode(text), maxLength);
  return { ids: t.ids, truncated: t.truncated, thinkClosed: false };
}
