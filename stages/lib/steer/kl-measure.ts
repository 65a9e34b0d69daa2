/**
 * Off-task KL(steered ‖ base) measurements for KL calibration (study-ref §10), pooled over prompts × positions.
 *
 * - teacher-forced (v1, canonical): chat [system?, user = user_msg, assistant = suffix] continued; the log-softmax
 *   at the positions predicting the last n_tokens tokens of the suffix, steered vs base. The suffix is the same
 *   text for every method, so the positions align even when a prompt method adds a system prompt.
 * - trajectory (v2/v3): generation opened inside the think block; n_tokens greedy tokens generated UNDER steering,
 *   then the base teacher-forced on the same tokens (without the method's system prompt for prompts).
 *
 * The base log-probs of a teacher-forced prompt set do not depend on α, so they are computed once per set and
 * kept in host memory (n_prompts × n_tokens × vocab floats: 600 MB for 50 prompts of Qwen3) while a search runs.
 */
import { generate } from '../../../src/core/generate.js';
import type { Tokenizer } from '../../../src/core/tokenizer.js';
import { groupBy } from '../group-by.js';
import { klPerPosition, pooledKlStats, type KlStats } from '../kl-stats.js';
import { prefixConversation } from '../prompts.js';
import type { QuestionEntry } from '../question-pool.js';
import type { LoadedModel } from '../model/load-model.js';
import { encodeContinued, encodeForGeneration } from './chat-inputs.js';
import { checkAborted, tailLogprobs } from './model-batches.js';
import { withSteering, type SteeringMethod } from './steering.js';

export type KlVersion = 'v1' | 'v2' | 'v3';

export interface KlSettings {
  version: KlVersion;
  nTokens: number;
  maxLength: number;
  batchSize: number;
}

export interface KlContext {
  signal?: AbortSignal;
  log?: (m: string) => void;
}

function systemOf(m: SteeringMethod): string {
  return m.kind === 'prompt' ? m.systemPrompt : '';
}

function teacherForcedIds(tok: Tokenizer, entries: readonly QuestionEntry[], system: string, s: KlSettings): number[][] {
  return entries.map((e, i) => {
    const enc = encodeContinued(tok, prefixConversation(system, e.user_msg, e.suffix), s.maxLength, { closeThink: false });
    if (enc.ids.length < s.nTokens + 2) {
      throw new Error(`KL prompt ${i} (${JSON.stringify(e.user_msg.slice(0, 40))}): ${enc.ids.length} tokens; the statistic over the last ${s.nTokens} needs at least ${s.nTokens + 2}`);
    }
    return enc.ids;
  });
}

/** Teacher-forced KL over one prompt set (v1); the base log-probs are computed on first use and kept. */
export class TeacherForcedKl {
  readonly #loaded: LoadedModel;
  readonly #entries: readonly QuestionEntry[];
  readonly #s: KlSettings;
  readonly #ctx: KlContext;
  readonly #baseIds: number[][];
  #base: Float32Array[] | null = null;

  constructor(loaded: LoadedModel, entries: readonly QuestionEntry[], s: KlSettings, ctx: KlContext = {}) {
    if (entries.length === 0) throw new Error('KL: the prompt set is empty');
    this.#loaded = loaded;
    this.#entries = entries;
    this.#s = s;
    this.#ctx = ctx;
    this.#baseIds = teacherForcedIds(loaded.tokenizer, entries, '', s);
  }

  async #baseLogprobs(): Promise<Float32Array[]> {
    this.#base ??= await tailLogprobs(this.#loaded.model, this.#baseIds, this.#s.nTokens, { batchSize: this.#s.batchSize, ...(this.#ctx.signal ? { signal: this.#ctx.signal } : {}) });
    return this.#base;
  }

  /** Pooled statistics of KL(method at α ‖ base). */
  async measure(method: SteeringMethod, alpha: number): Promise<KlStats> {
    const base = await this.#baseLogprobs();
    const system = systemOf(method);
    const ids = system === '' ? this.#baseIds : teacherForcedIds(this.#loaded.tokenizer, this.#entries, system, this.#s);
    const steered = await withSteering(this.#loaded.model, method, alpha, (forward) =>
      tailLogprobs(this.#loaded.model, ids, this.#s.nTokens, { batchSize: this.#s.batchSize, forward, ...(this.#ctx.signal ? { signal: this.#ctx.signal } : {}) }),
      this.#ctx.log,
    );
    const V = this.#loaded.model.config.vocabSize;
    return pooledKlStats(steered.map((lp, i) => klPerPosition(lp, base[i] as Float32Array, V, this.#s.nTokens)));
  }

  /** Free the cached base log-probs. */
  release(): void {
    this.#base = null;
  }
}

/** Text that opens the assistant turn inside a think block (v2/v3): `<|im_start|>assistant\n<think>\n`. */
export const THINK_OPEN_SUFFIX = '<think>\n';

/** Trajectory KL (v2/v3) over a prompt set. */
export async function trajectoryKl(loaded: LoadedModel, entries: readonly QuestionEntry[], method: SteeringMethod, alpha: number, s: KlSettings, ctx: KlContext = {}): Promise<KlStats> {
  const { model, tokenizer: tok } = loaded;
  const sys = systemOf(method);
  const conv = (system: string, e: QuestionEntry): { role: 'system' | 'user'; content: string }[] => [...(system === '' ? [] : [{ role: 'system' as const, content: system }]), { role: 'user' as const, content: e.user_msg }];
  const baseIds = entries.map((e) => encodeForGeneration(tok, conv('', e), s.maxLength, THINK_OPEN_SUFFIX).ids);
  const steerIds = sys === '' ? baseIds : entries.map((e) => encodeForGeneration(tok, conv(sys, e), s.maxLength, THINK_OPEN_SUFFIX).ids);
  const V = model.config.vocabSize;
  const perPrompt: Float64Array[] = [];
  for (let b0 = 0; b0 < entries.length; b0 += s.batchSize) {
    checkAborted(ctx.signal);
    const idx = Array.from({ length: Math.min(s.batchSize, entries.length - b0) }, (_, i) => b0 + i);
    const gens: number[][] = [];
    const steered = await withSteering(model, method, alpha, async (forward) => {
      const g = await generate(model, idx.map((i) => steerIds[i] as number[]), { doSample: false, maxNewTokens: s.nTokens, forward, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      gens.push(...g.tokens);
      // the steered distributions that produced each generated token, teacher-forced (as the scores of generate)
      return scoreTails(model, idx.map((i, k) => [...(steerIds[i] as number[]), ...(g.tokens[k] as number[])]), g.tokens.map((t) => t.length), s.batchSize, forward, ctx.signal);
    }, ctx.log);
    const base = await scoreTails(model, idx.map((i, k) => [...(baseIds[i] as number[]), ...(gens[k] as number[])]), gens.map((t) => t.length), s.batchSize, {}, ctx.signal);
    idx.forEach((_, k) => {
      const g = (gens[k] as number[]).length;
      if (g === 0) return; // the reference skips prompts with an empty generation
      perPrompt.push(klPerPosition(steered[k] as Float32Array, base[k] as Float32Array, V, g));
    });
  }
  return pooledKlStats(perPrompt);
}

/** tailLogprobs with a different tail length per sequence (grouped by length). */
async function scoreTails(model: LoadedModel['model'], seqs: number[][], tails: number[], batchSize: number, forward: Parameters<typeof tailLogprobs>[3]['forward'], signal: AbortSignal | undefined): Promise<Float32Array[]> {
  const out = new Array<Float32Array>(seqs.length);
  const byLen = groupBy(tails.flatMap((t, i) => (t > 0 ? [i] : [])), (i) => tails[i] as number);
  for (const [t, is] of byLen) {
    const got = await tailLogprobs(model, is.map((i) => seqs[i] as number[]), t, { batchSize, ...(forward ? { forward } : {}), ...(signal ? { signal } : {}) });
    is.forEach((i, k) => (out[i] = got[k] as Float32Array));
  }
  return out;
}
