/**
 * Batched autoregressive generation with a key/value cache: prompts are left-padded so all rows decode in
 * lockstep, positions follow each row's real tokens (as transformers' generate derives them from the attention
 * mask), and each step runs only the new token through the model.
 *
 * Sampling follows transformers' warper order: (min_new_tokens EOS suppression) → temperature → top-k → top-p →
 * min-p → sample from the softmax of what is left. Randomness comes from the seeded Rng (one uniform per live
 * row per step, rows in order), so a seed gives the same ids on a given backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { padBatch } from './batch.js';
import { Rng } from './random.js';
import type { ForwardOptions, Qwen3Model } from './qwen3/model.js';

export interface SamplingParams {
  /** false: greedy (argmax, first index on ties) */
  doSample: boolean;
  temperature?: number;
  /** 0 disables */
  topK?: number;
  /** 1 disables */
  topP?: number;
  /** 0 disables */
  minP?: number;
}

export interface GenerateOptions extends SamplingParams {
  maxNewTokens: number;
  /** end-of-sequence tokens are suppressed until this many tokens were generated (transformers' min_new_tokens) */
  minNewTokens?: number;
  /** required when doSample is true */
  seed?: number;
  /** tokens that end a row (default: the model config's eos_token_id) */
  stopTokenIds?: readonly number[];
  /** fed to finished rows and used to left-pad prompts (default: the first stop token) */
  padTokenId?: number;
  /** steering applied at every step (e.g. residualAdd for activation steering) */
  forward?: Omit<ForwardOptions, 'positionIds'>;
  /** false recomputes the whole sequence each step (a reference for tests; quadratic) */
  useCache?: boolean;
  onStep?: (step: number, maxSteps: number) => void;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** generated ids per row, including the stop token when the row stopped */
  tokens: number[][];
  /** whether each row emitted a stop token (false: hit maxNewTokens) */
  stopped: boolean[];
}

/** Sampling defaults from DIR/generation_config.json (transformers' GenerationConfig fields), if present. */
export function readGenerationConfig(dir: string): Partial<SamplingParams> & { stopTokenIds?: number[] } {
  const file = join(dir, 'generation_config.json');
  if (!existsSync(file)) return {};
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const out: Partial<SamplingParams> & { stopTokenIds?: number[] } = {};
  const num = (k: string): number | undefined => (typeof raw[k] === 'number' ? (raw[k] as number) : undefined);
  if (typeof raw['do_sample'] === 'boolean') out.doSample = raw['do_sample'];
  const t = num('temperature');
  if (t !== undefined) out.temperature = t;
  const k = num('top_k');
  if (k !== undefined) out.topK = k;
  const p = num('top_p');
  if (p !== undefined) out.topP = p;
  const m = num('min_p');
  if (m !== undefined) out.minP = m;
  const eos = raw['eos_token_id'];
  if (typeof eos === 'number') out.stopTokenIds = [eos];
  else if (Array.isArray(eos) && eos.every((x) => typeof x === 'number')) out.stopTokenIds = eos as number[];
  return out;
}

function checkOptions(o: GenerateOptions): void {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1) throw new Error(`maxNewTokens must be a positive integer, got ${o.maxNewTokens}`);
  if (o.minNewTokens !== undefined && (!Number.isInteger(o.minNewTokens) || o.minNewTokens < 0)) throw new Error(`minNewTokens must be a non-negative integer, got ${o.minNewTokens}`);
  if (o.doSample) {
    if (o.seed === undefined || !Number.isSafeInteger(o.seed)) throw new Error('sampling needs an integer seed');
    const t = o.temperature ?? 1;
    if (!(t > 0) || !Number.isFinite(t)) throw new Error(`temperature must be > 0, got ${t}`);
    const k = o.topK ?? 0;
    if (!Number.isInteger(k) || k < 0) throw new Error(`topK must be a non-negative integer, got ${k}`);
    const p = o.topP ?? 1;
    if (!(p > 0 && p <= 1)) throw new Error(`topP must be in (0, 1], got ${p}`);
    const m = o.minP ?? 0;
    if (!(m >= 0 && m <= 1)) throw new Error(`minP must be in [0, 1], got ${m}`);
  }
}

function argmax(row: Float32Array): number {
  let best = 0;
  let bv = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i] as number;
    if (v > bv) {
      bv = v;
      best = i;
    }
  }
  return best;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * Token ids ordered by descending logit, lower id first on ties. Sorting a Float64Array natively is ~10x faster
 * than a comparator sort over 151936 ids: each key packs the float32 logit's order-preserving bits above the
 * (inverted) id, an exact integer below 2^53.
 */
function rankByLogit(row: Float32Array, ids: Uint32Array): Uint32Array {
  const V = row.length;
  const idBits = Math.max(1, Math.ceil(Math.log2(V)));
  if (32 + idBits > 53) throw new Error(`sampling: vocabulary of ${V} is too large to rank`);
  const scale = 2 ** idBits;
  const maxId = scale - 1;
  const keys = new Float64Array(ids.length);
  for (let r = 0; r < ids.length; r++) {
    const i = ids[r] as number;
    F32[0] = row[i] as number;
    const b = U32[0] as number;
    const ordered = (b & 0x80000000) !== 0 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    keys[r] = ordered * scale + (maxId - i);
  }
  keys.sort();
  const out = new Uint32Array(ids.length);
  for (let r = 0; r < ids.length; r++) out[r] = maxId - ((keys[ids.length - 1 - r] as number) % scale);
  return out;
}

/** The k-th largest logit among tokens with non-zero weight (quickselect on a copy). */
function kthLargest(row: Float32Array, w: Float64Array, live: number, k: number): number {
  const a = new Float32Array(live);
  for (let i = 0, r = 0; i < row.length; i++) if ((w[i] as number) > 0) a[r++] = row[i] as number;
  let lo = 0;
  let hi = live - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) > pivot) i++;
      while ((a[j] as number) < pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target] as number;
}

/**
 * Draw one token from `row` (logits, already EOS-suppressed) with temperature → top-k → top-p → min-p, each as
 * transformers' warpers define them, then sample from the softmax of what is left.
 */
export function sampleToken(row: Float32Array, p: SamplingParams, rng: Rng): number {
  const temperature = p.temperature ?? 1;
  const topK = p.topK ?? 0;
  const topP = p.topP ?? 1;
  const minP = p.minP ?? 0;
  const V = row.length;
  let max = -Infinity;
  for (let i = 0; i < V; i++) if ((row[i] as number) > max) max = row[i] as number;
  if (max === -Infinity) throw new Error('sampling: every token is masked');
  // weights relative to the most likely token (softmax up to its normaliser); exp underflow to 0 = impossible
  const w = new Float64Array(V);
  let z = 0;
  let live = 0;
  for (let i = 0; i < V; i++) {
    const v = Math.exp(((row[i] as number) - max) / temperature);
    w[i] = v;
    z += v;
    if (v > 0) live++;
  }
  if (topK === 0 && topP >= 1) {
    // no ranking needed: min-p is a threshold relative to the top token; sample in id order
    let zz = 0;
    for (let i = 0; i < V; i++) {
      if ((w[i] as number) < minP) w[i] = 0;
      zz += w[i] as number;
    }
    const u = rng.uniform() * zz;
    let acc = 0;
    let lastKept = 0;
    for (let i = 0; i < V; i++) {
      const wi = w[i] as number;
      if (wi === 0) continue;
      lastKept = i;
      acc += wi;
      if (u < acc) return i;
    }
    return lastKept;
  }
  // with top-k, only tokens at or above the k-th largest logit can survive: rank just those
  const floor = topK > 0 && topK < live ? kthLargest(row, w, live, topK) : -Infinity;
  let count = 0;
  for (let i = 0; i < V; i++) if ((w[i] as number) > 0 && (row[i] as number) >= floor) count++;
  const liveIds = new Uint32Array(count);
  for (let i = 0, r = 0; i < V; i++) if ((w[i] as number) > 0 && (row[i] as number) >= floor) liveIds[r++] = i;
  const cand = rankByLogit(row, liveIds);
  let n = cand.length;
  let zk = z;
  if (topK > 0 && topK < n) {
    // transformers removes scores strictly below the k-th largest: ties with it are kept
    const kth = row[cand[topK - 1] as number] as number;
    let m = topK;
    while (m < n && (row[cand[m] as number] as number) >= kth) m++;
    n = m;
    zk = 0;
    for (let r = 0; r < n; r++) zk += w[cand[r] as number] as number;
  }
  if (topP < 1) {
    // keep a token while the mass ranked above it is below top_p (transformers' TopPLogitsWarper)
    let above = 0;
    let keep = 0;
    while (keep < n && above < topP * zk) {
      above += w[cand[keep] as number] as number;
      keep++;
    }
    n = Math.max(1, keep);
  }
  if (minP > 0) {
    let keep = 1;
    while (keep < n && (w[cand[keep] as number] as number) >= minP) keep++;
    n = keep;
  }
  let zz = 0;
  for (let r = 0; r < n; r++) zz += w[cand[r] as number] as number;
  const u = rng.uniform() * zz;
  let acc = 0;
  for (let r = 0; r < n; r++) {
    acc += w[cand[r] as number] as number;
    if (u < acc) return cand[r] as number;
  }
  return cand[n - 1] as number;
}

/** Generate continuations of `prompts` (token ids, any lengths). */
export async function generate(model: Qwen3Model, prompts: readonly (readonly number[])[], options: GenerateOptions): Promise<GenerateResult> {
  checkOptions(options);
  if (prompts.length === 0) return { tokens: [], stopped: [] };
  prompts.forEach((p, b) => {
    if (p.length === 0) throw new Error(`generate: prompt ${b} is empty`);
  });
  const stop = new Set(options.stopTokenIds ?? model.config.eosTokenIds);
  if (stop.size === 0) throw new Error('generate: no stop tokens (the config has no eos_token_id; pass stopTokenIds)');
  const pad = options.padTokenId ?? (stop.values().next().value as number);
  const V = model.config.vocabSize;
  const B = prompts.length;
  const rng = options.doSample ? new Rng(options.seed as number) : null;
  const minNew = options.minNewTokens ?? 0;
  const fwd = options.forward ?? {};
  const useCache = options.useCache ?? true;

  const start = padBatch(prompts, pad, 'left');
  const seqIds = start.ids.map((r) => [...r]);
  const seqMask = start.mask.map((r) => [...r]);
  const tokens: number[][] = Array.from({ length: B }, () => []);
  const stopped = new Array<boolean>(B).fill(false);
  const cache = useCache ? model.newCache(B) : null;
  try {
    let nextIds: number[][] = start.ids;
    let nextMask: number[][] = start.mask;
    for (let step = 0; step < options.maxNewTokens; step++) {
      if (options.signal?.aborted === true) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('generation aborted');
      const logitsT = cache !== null ? model.decode(cache, nextIds, nextMask, fwd) : model.lastLogits(seqIds, seqMask, fwd);
      const logits = (await logitsT.data()) as Float32Array;
      logitsT.dispose();
      const chosen: number[] = [];
      for (let b = 0; b < B; b++) {
        if (stopped[b] === true) {
          chosen.push(pad);
          continue;
        }
        const row = logits.subarray(b * V, (b + 1) * V);
        if (step < minNew) for (const s of stop) if (s < V) row[s] = -Infinity;
        const id = rng === null ? argmax(row) : sampleToken(row, options, rng);
        chosen.push(id);
        (tokens[b] as number[]).push(id);
        if (stop.has(id)) stopped[b] = true;
      }
      options.onStep?.(step + 1, options.maxNewTokens);
      if (stopped.every((s) => s)) break;
      nextIds = chosen.map((id) => [id]);
      nextMask = chosen.map(() => [1]);
      chosen.forEach((id, b) => {
        (seqIds[b] as number[]).push(id);
        (seqMask[b] as number[]).push(1);
      });
      // let timers, progress output and abort signals through between steps
      await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    if (cache !== null) model.disposeCache(cache);
  }
  return { tokens, stopped };
}

