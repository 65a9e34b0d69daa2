/**
 * Contrastive pair generation as the reference study (study-ref §2.4–2.6), for any behaviour definition
 * (stages/lib/behavior-definition.ts: its persona template and set):
 * - specs = topic × persona × sample (itertools.product order), reordered by a seeded permutation;
 * - each spec is generated twice by the base model: [system: positive persona, user: question] and
 *   [system: negative persona, user: question], chat template with add_generation_prompt (no enable_thinking
 *   extra for Qwen3, so it thinks by default), sampled;
 * - batched with a KV cache, all positive prompts first, then all negative ones (the latest reference);
 * - each output is cut at its first end-of-sequence token, decoded without special tokens and stripped.
 * Deterministic from the seed for a given backend and batch size (batch composition drives the random stream,
 * as in torch).
 */
import { generate, readGenerationConfig } from '../../src/core/generate.js';
import type { SamplingParams } from '../../src/core/generate.js';
import { Rng } from '../../src/core/random.js';
import type { Qwen3Model } from '../../src/core/qwen3/model.js';
import type { Tokenizer } from '../../src/core/tokenizer.js';
import { pyStrip } from '../lib/py-compat.js';
import { personaPrompt, type BehaviorDefinition, type PersonaSet } from '../lib/behavior-definition.js';
import type { PairRow } from '../lib/pairs.js';

export interface PairGenerationOptions {
  questions: readonly string[];
  /** the behaviour's definition (its persona template) and the persona set it uses */
  behavior: BehaviorDefinition;
  personas: PersonaSet;
  nPersonas: number;
  nSamples: number;
  maxNewTokens: number;
  minNewTokens: number;
  temperature: number;
  /** null: from the model's generation_config.json */
  topP: number | null;
  topK: number | null;
  minP: number | null;
  enableThinking: boolean | null;
  batchSize: number;
  seed: number;
  /** directory with generation_config.json (the model's) */
  modelDir: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface Spec {
  topicIdx: number;
  personaIdx: number;
  sampleIdx: number;
}

/** The grid in itertools.product order, reordered by the seeded permutation. */
export function shuffledSpecs(nTopics: number, nPersonas: number, nSamples: number, rng: Rng): Spec[] {
  const specs: Spec[] = [];
  for (let t = 0; t < nTopics; t++) for (let p = 0; p < nPersonas; p++) for (let s = 0; s < nSamples; s++) specs.push({ topicIdx: t, personaIdx: p, sampleIdx: s });
  return rng.permutation(specs.length).map((i) => specs[i] as Spec);
}

/** Sampling parameters: explicit values, else generation_config.json, else transformers' defaults. */
export function samplingParams(o: Pick<PairGenerationOptions, 'temperature' | 'topP' | 'topK' | 'minP' | 'modelDir'>): Required<SamplingParams> & { stopTokenIds?: number[] } {
  const gc = readGenerationConfig(o.modelDir);
  return {
    doSample: true,
    temperature: o.temperature,
    topP: o.topP ?? gc.topP ?? 1,
    topK: o.topK ?? gc.topK ?? 50,
    minP: o.minP ?? gc.minP ?? 0,
    ...(gc.stopTokenIds !== undefined ? { stopTokenIds: gc.stopTokenIds } : {}),
  };
}

interface Generated {
  text: string;
  hitMax: boolean;
}

export async function generatePairs(model: Qwen3Model, tok: Tokenizer, o: PairGenerationOptions): Promise<{ rows: PairRow[]; sampling: ReturnType<typeof samplingParams> }> {
  const set = o.personas;
  const sysPrompt = (persona: string): string => personaPrompt(o.behavior, persona);
  const nPersonas = Math.min(o.nPersonas, set.pos.length);
  const rng = new Rng(o.seed);
  const specs = shuffledSpecs(o.questions.length, nPersonas, o.nSamples, rng);
  const sampling = samplingParams(o);
  const stop = sampling.stopTokenIds ?? model.config.eosTokenIds;
  const stopSet = new Set(stop);
  const pad = tok.padTokenId ?? (stop[0] as number);
  const total = 2 * specs.length;
  let done = 0;
  const chatOptions = { addGenerationPrompt: true, ...(o.enableThinking !== null ? { enableThinking: o.enableThinking } : {}) };
  const run = async (side: 'pos' | 'neg'): Promise<Generated[]> => {
    const personas = side === 'pos' ? set.pos : set.neg;
    const out: Generated[] = [];
    for (let b = 0; b < specs.length; b += o.batchSize) {
      o.signal?.throwIfAborted();
      const batch = specs.slice(b, b + o.batchSize);
      const prompts = batch.map((s) =>
        tok.encodeChat(
          [
            { role: 'system', content: sysPrompt(personas[s.personaIdx] as string) },
            { role: 'user', content: o.questions[s.topicIdx] as string },
          ],
          chatOptions,
        ),
      );
      const res = await generate(model, prompts, {
        ...sampling,
        maxNewTokens: o.maxNewTokens,
        minNewTokens: o.minNewTokens,
        seed: rng.nextUint32(),
        stopTokenIds: stop,
        padTokenId: pad,
        ...(o.signal !== undefined ? { signal: o.signal } : {}),
      });
      res.tokens.forEach((ids, i) => {
        const cut = ids.findIndex((id) => stopSet.has(id));
        const kept = (cut < 0 ? ids : ids.slice(0, cut)).filter((id) => id !== pad);
        out.push({ text: pyStrip(tok.decode(kept, { skipSpecialTokens: true })), hitMax: res.stopped[i] !== true });
      });
      done += batch.length;
      o.onProgress?.(done, total);
    }
    return out;
  };
  const pos = await run('pos');
  const neg = await run('neg');
  const rows: PairRow[] = specs.map((s, i) => ({
    index: i,
    prompt: o.questions[s.topicIdx] as string,
    response_pos: (pos[i] as Generated).text,
    response_neg: (neg[i] as Generated).text,
    sys_prompt_pos: sysPrompt(set.pos[s.personaIdx] as string),
    sys_prompt_neg: sysPrompt(set.neg[s.personaIdx] as string),
    persona_pos: set.pos[s.personaIdx] as string,
    persona_neg: set.neg[s.personaIdx] as string,
    topic_idx: s.topicIdx,
    persona_idx: s.personaIdx,
    sample_idx: s.sampleIdx,
    behavior: o.behavior.name,
    pos_hit_max_tokens: (pos[i] as Generated).hitMax,
    neg_hit_max_tokens: (neg[i] as Generated).hitMax,
  }));
  return { rows, sampling };
}
