/**
 * Training examples as the reference study builds them (docs/study-ref.md §3.3):
 * - the conversation is [user: prompt, assistant: response] with NO system message (the persona is stripped);
 * - text = chat template of the conversation, add_generation_prompt false;
 * - the prompt = chat template of [user: prompt] with add_generation_prompt true, rendered separately;
 * - both tokenised without special tokens and right-truncated to max_len (512);
 * - labels = input ids with the first min(len(prompt ids), len) positions masked, so the loss covers every
 *   token the template emits after "<|im_start|>assistant\n" (a think block, the response, <|im_end|>, "\n").
 */
import type { Tokenizer } from '../tokenizer.js';
import type { Rng } from '../random.js';

export interface TrainingExample {
  inputIds: number[];
  /** positions [0, maskedPrefix) carry no loss */
  maskedPrefix: number;
}

export interface ExampleStats {
  examples: number;
  /** tokens that carry loss */
  supervisedTokens: number;
  /** supervised tokens inside a <think>…</think> block (the study warns these dominate long generations) */
  supervisedThinkTokens: number;
  /** examples cut at max_len */
  truncated: number;
  meanLength: number;
}

export const STUDY_MAX_LEN = 512;

export function buildExample(tok: Tokenizer, prompt: string, response: string, maxLen = STUDY_MAX_LEN): TrainingExample & { truncated: boolean } {
  const text = tok.applyChatTemplate([{ role: 'user', content: prompt }, { role: 'assistant', content: response }], { addGenerationPrompt: false });
  const promptText = tok.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true });
  const full = tok.encode(text);
  const promptIds = tok.encode(promptText).slice(0, maxLen);
  const inputIds = full.slice(0, maxLen);
  return { inputIds, maskedPrefix: Math.min(promptIds.length, inputIds.length), truncated: full.length > maxLen };
}

/** Positions t (1 ≤ t < L, t ≥ maskedPrefix) whose token is a loss target, predicted from position t − 1. */
export function targetPositions(ex: TrainingExample): number[] {
  const out: number[] = [];
  for (let t = Math.max(1, ex.maskedPrefix); t < ex.inputIds.length; t++) out.push(t);
  return out;
}

export function exampleStats(examples: readonly (TrainingExample & { truncated?: boolean })[], thinkStartId: number | null, thinkEndId: number | null): ExampleStats {
  let supervised = 0;
  let think = 0;
  let truncated = 0;
  let length = 0;
  for (const ex of examples) {
    length += ex.inputIds.length;
    if (ex.truncated === true) truncated++;
    let inThink = false;
    for (let t = 0; t < ex.inputIds.length; t++) {
      const id = ex.inputIds[t] as number;
      const supervisedHere = t >= Math.max(1, ex.maskedPrefix);
      if (supervisedHere) {
        supervised++;
        if (inThink || id === thinkStartId || id === thinkEndId) think++;
      }
      if (id === thinkStartId) inThink = true;
      else if (id === thinkEndId) inThink = false;
    }
  }
  return { examples: examples.length, supervisedTokens: supervised, supervisedThinkTokens: think, truncated, meanLength: examples.length === 0 ? 0 : length / examples.length };
}

/**
 * datasets' train_test_split(test_size) order: a seeded permutation, the first ceil(test_size·n) indices are the
 * test (validation) split, the rest the training split (our Rng, not numpy's, so the draw differs from HF's).
 */
export function trainValSplit(n: number, valFraction: number, rng: Rng): { train: number[]; val: number[] } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`validation fraction must be in [0, 1), got ${valFraction}`);
  const nVal = Math.ceil(valFraction * n);
  if (nVal >= n && n > 0) throw new Error(`validation fraction ${valFraction} leaves no training example out of ${n}`);
  const perm = rng.permutation(n);
  return { val: perm.slice(0, nVal), train: perm.slice(nVal) };
}
