/**
 * Qwen3 causal LM forward pass on TensorFlow.js, numerically following transformers' modeling_qwen3
 * (spec/ml-core.md A.2): pre-norm blocks, q/k RMSNorm per head before half-split RoPE, GQA (query head h uses
 * KV head floor(h / n_rep)), additive causal + padding mask, softmax in float32, SwiGLU MLP, final RMSNorm,
 * logits = h·W_lmᵀ (the embedding when tied).
 *
 * Everything returned is a tensor the caller owns (dispose it); everything else is freed before returning.
 * Options of a call (residual additions, captures) leave no state behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkBatch, lastRealIndex, positionsFromMask, type TokenBatch } from '../batch.js';
import { backendReadsSync } from '../host-read.js';
import type { Qwen3Config } from './config.js';
import type { LinearHook } from './linear-hook.js';
import { attention, attentionIsOneKernel, attentionKnown, frozenLinearOutIn, frozenLinearOutInKnown, qkNormRope, rmsNorm, swiglu } from './ops.js';
import { inverseFrequencies, ropeTables } from './rope.js';
import { EMBED, FINAL_NORM, LINEAR_SUFFIXES, LM_HEAD, qwen3ParamSpecs, type ParamSpec } from './weights.js';

/** Add `scale · vector` to the residual stream after decoder block `layer` (the output of model.layers.{layer}), at every position. */
export interface ResidualAdd {
  layer: number;
  /** [hidden_size]; a tensor stays owned by the caller */
  vector: tf.Tensor1D | Float32Array | readonly number[];
  scale?: number;
}

export interface ForwardOptions {
  residualAdd?: readonly ResidualAdd[];
  /** explicit position ids [B][S]; default: the count of real tokens before each token in its row */
  positionIds?: number[][];
  /** rows of hidden states per lm_head chunk; default keeps one chunk's logits at or under 64 MB */
  chunkRows?: number;
  /**
   * Run each decoder block through this instead of directly (not with a KV cache). `run(x, aux)` computes block
   * `layer` from its input and the per-forward tensors `aux` (attention mask, RoPE tables, residual addition);
   * training uses it to keep block inputs and recompute blocks one at a time in the backward pass
   * (src/core/training/layered-backward.ts). The default is `tf.tidy(() => run(x, aux))`.
   */
  wrapLayer?: WrapLayer;
  /**
   * The decoder's frozen products x·Wᵀ (hooked layers or not; the hook's `base` included) and, on `native`, its
   * attention go through this, so that training can keep them from the forward pass and hand them back when the
   * block is recomputed for its gradients instead of computing them twice (src/core/training/layered-backward.ts).
   */
  keptResults?: KeptResults;
}

/** See ForwardOptions.keptResults. */
export interface KeptResults {
  /**
   * The value of `compute()` (named `key`: a module or attention of one block). Where this pass recomputes a
   * value an earlier pass computed from equal inputs, the implementation may return `reuse(earlier value)`
   * instead: the same value, with compute's gradient w.r.t. its inputs.
   */
  keep(key: string, compute: () => tf.Tensor2D, reuse: (value: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D;
}

/** See ForwardOptions.wrapLayer. */
export type WrapLayer = (layer: number, x: tf.Tensor2D, aux: readonly tf.Tensor[], run: (x: tf.Tensor2D, aux: readonly tf.Tensor[]) => tf.Tensor2D) => tf.Tensor2D;

/**
 * Which positions to compute logits for: 'last' = each row's last real token, 'all' = every position, or a list
 * of indices applied to every row; a negative index counts back from just past the row's last real token
 * (-1 = last real token), so [-21, ..., -2] picks the distributions predicting a row's last 20 tokens.
 */
export type PositionSelector = 'last' | 'all' | readonly number[];

/** Key/value cache for incremental decoding. Rows advance in lockstep (slots include padding). */
export interface KvCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  /** [B][slots] 1 for a real token */
  keyMask: number[][];
  /** next position id per row */
  nextPosition: number[];
}

const MASKED = -1e9;
const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

interface ForwardPlan {
  batch: number;
  seq: number;
  /** slots already in the cache */
  past: number;
  ids: number[][];
  /** key mask over past + current slots */
  keyMask: number[][];
  positions: number[][];
}

interface ForwardResult {
  /** [B*S, E] after the final norm */
  hidden: tf.Tensor2D;
  /** layer -> [B*S, E] residual after that block (only layers asked for) */
  captured: Map<number, tf.Tensor2D>;
}

export class Qwen3Model {
  readonly config: Qwen3Config;
  /** where the weights came from: a directory, or a description of an in-memory model */
  readonly source: string;
  readonly #specs: Map<string, ParamSpec>;
  readonly #params = new Map<string, tf.Tensor>();
  readonly #hooks = new Map<string, LinearHook>();
  /** [hidden, vocab] copy of the output projection, made only if a caller asks for outputKernel() */
  #outputKernelCopy: tf.Tensor2D | null = null;
  readonly #invFreq: Float32Array;
  readonly #linearModules: string[];
  #disposed = false;

  /**
   * Takes ownership of `params` (HF name -> tensor of the PyTorch shape in qwen3ParamSpecs). Prefer loadQwen3 /
   * createRandomQwen3, which build them.
   */
  constructor(config: Qwen3Config, params: Map<string, tf.Tensor>, source: string) {
    this.config = config;
    this.source = source;
    this.#specs = new Map(qwen3ParamSpecs(config).map((s) => [s.name, s]));
    for (const [name, spec] of this.#specs) {
      const t = params.get(name);
      if (t === undefined) throw new Error(`internal: parameter ${name} missing`);
      if (!sameShape(t.shape, spec.shape)) throw new Error(`internal: parameter ${name} has shape [${t.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
      this.#params.set(name, tf.keep(t));
    }
    this.#invFreq = inverseFrequencies(config.headDim, config.ropeTheta);
    this.#linearModules = [];
    for (let l = 0; l < config.numLayers; l++) for (const s of LINEAR_SUFFIXES) this.#linearModules.push(`model.layers.${l}.${s}`);
  }

  get numLayers(): number {
    return this.config.numLayers;
  }

  // ---------------------------------------------------------------- parameters

  /** HF parameter names in named_parameters() order (a tied lm_head is not listed separately). */
  parameterNames(): string[] {
    return [...this.#specs.keys()];
  }

  /** PyTorch shape of a parameter. */
  parameterShape(name: string): number[] {
    return [...this.#spec(name).shape];
  }

  /** A parameter in PyTorch layout ([out, in] for Linear weights); the caller owns (and disposes) the result. */
  getParameter(name: string): tf.Tensor {
    return tf.clone(this.#param(this.#spec(name).name));
  }

  /**
   * Swap in a float32 tensor of the parameter's PyTorch shape. The model keeps its own copy (the caller still owns
   * `t`); returns the previous value in PyTorch layout, owned by the caller. Restoring with that value is exact.
   */
  setParameter(name: string, t: tf.Tensor): tf.Tensor {
    const spec = this.#spec(name);
    if (!sameShape(t.shape, spec.shape)) throw new Error(`setParameter(${name}): shape [${t.shape.join(', ')}] does not match the parameter's [${spec.shape.join(', ')}]`);
    if (t.dtype !== 'float32') throw new Error(`setParameter(${name}): dtype ${t.dtype}, expected float32`);
    const old = this.#param(spec.name);
    this.#params.set(spec.name, tf.keep(tf.clone(t)));
    if (spec.name === EMBED || spec.name === LM_HEAD) {
      this.#outputKernelCopy?.dispose();
      this.#outputKernelCopy = null;
    }
    return old;
  }

  /** HF module names of every decoder linear layer (lm_head excluded), e.g. "model.layers.3.self_attn.q_proj". */
  linearModuleNames(): string[] {
    return [...this.#linearModules];
  }

  /** Route a linear layer through `hook` (null removes it). */
  setLinearHook(moduleName: string, hook: LinearHook | null): void {
    if (!this.#linearModules.includes(moduleName)) {
      throw new Error(`setLinearHook: no linear module "${moduleName}" (expected e.g. model.layers.0.self_attn.q_proj; see linearModuleNames())`);
    }
    if (hook === null) this.#hooks.delete(moduleName);
    else this.#hooks.set(moduleName, hook);
  }

  getLinearHook(moduleName: string): LinearHook | null {
    return this.#hooks.get(moduleName) ?? null;
  }

  /** The output projection W_lm [vocab, hidden] (the embedding when tied). Owned by the model: do not dispose. */
  outputWeight(): tf.Tensor2D {
    return this.#param(this.config.tieWordEmbeddings ? EMBED : LM_HEAD) as tf.Tensor2D;
  }

  /**
   * @deprecated a transposed COPY of the output projection, [hidden, vocab] (622 MB for Qwen3-0.6B), made on first
   * call and kept until the weight changes or the model is disposed. Use outputWeight() and weight-first matMuls.
   */
  outputKernel(): tf.Tensor2D {
    this.#outputKernelCopy ??= tf.keep(tf.transpose(this.outputWeight()));
    return this.#outputKernelCopy;
  }

  /** logits = h·W_lmᵀ for h [N, hidden]; differentiable w.r.t. h only (the projection is frozen). */
  projectToVocab(h: tf.Tensor2D): tf.Tensor2D {
    return frozenLinearOutIn(h, this.outputWeight());
  }

  // ---------------------------------------------------------------- scoring

  /**
   * Full-vocabulary logits at the selected positions: [B, P, V] ('all': P = S). Computed in row chunks.
   */
  logits(ids: number[][], mask?: number[][], options: ForwardOptions & { positions?: PositionSelector } = {}): tf.Tensor3D {
    const plan = this.#plan(ids, mask, options);
    const rows = selectRows(plan, options.positions ?? 'all');
    return tf.tidy(() => {
      const { hidden } = this.#forward(plan, options, null);
      const picked = rows.identity ? hidden : tf.gather(hidden, tf.tensor1d(rows.flat, 'int32'));
      // Every chunk ends up in the concatenated result, so chunks bound only per-chunk intermediates: wasm's
      // W·hᵀ and its transpose. On `native` the output is the only tensor a chunk makes, and chunking would
      // add a concat copy of all the logits (311 MB at 4 x 128) and cut lm_head into several smaller GEMMs.
      const out = tf.getBackend() === 'native' && options.chunkRows === undefined
        ? this.projectToVocab(picked)
        : this.#chunked(picked, options.chunkRows, (h) => this.projectToVocab(h));
      return tf.reshape(out, [plan.batch, rows.perRow, this.config.vocabSize]) as tf.Tensor3D;
    });
  }

  /** Logits at each row's last real token: [B, V]. */
  lastLogits(ids: number[][], mask?: number[][], options: ForwardOptions = {}): tf.Tensor2D {
    const plan = this.#plan(ids, mask, options);
    const rows = selectRows(plan, 'last');
    return tf.tidy(() => {
      const { hidden } = this.#forward(plan, options, null);
      const picked = tf.gather(hidden, tf.tensor1d(rows.flat, 'int32'));
      return this.#chunked(picked, options.chunkRows, (h) => this.projectToVocab(h));
    });
  }

  /** log_softmax of the logits at the selected positions: [B, P, V], one chunk of rows at a time. */
  logSoftmaxAt(ids: number[][], mask: number[][] | undefined, at: PositionSelector, options: ForwardOptions = {}): tf.Tensor3D {
    const plan = this.#plan(ids, mask, options);
    const rows = selectRows(plan, at);
    return tf.tidy(() => {
      const { hidden } = this.#forward(plan, options, null);
      const picked = tf.gather(hidden, tf.tensor1d(rows.flat, 'int32'));
      const out = this.#chunked(picked, options.chunkRows, (h) => tf.logSoftmax(this.projectToVocab(h)));
      return tf.reshape(out, [plan.batch, rows.perRow, this.config.vocabSize]) as tf.Tensor3D;
    });
  }

  /**
   * log p(ids[b][t] | ids[b][<t]) for every position: [B, S], aligned with `ids`. Column 0, padding, and tokens
   * whose predecessor is padding are 0. The full-vocabulary log-softmax is formed one chunk of rows at a time.
   */
  tokenLogprobs(ids: number[][], mask?: number[][], options: ForwardOptions = {}): tf.Tensor2D {
    const plan = this.#plan(ids, mask, options);
    const { batch: B, seq: S } = plan;
    const V = this.config.vocabSize;
    // predictor row (b, t-1) scores target ids[b][t]
    const srcRows: number[] = [];
    const targets: number[] = [];
    const outIndex: number[] = [];
    const m = plan.keyMask;
    for (let b = 0; b < B; b++) {
      for (let t = 1; t < S; t++) {
        if (m[b]?.[plan.past + t] === 1 && m[b]?.[plan.past + t - 1] === 1) {
          srcRows.push(b * S + t - 1);
          targets.push((plan.ids[b] as number[])[t] as number);
          outIndex.push(b * S + t);
        }
      }
    }
    if (srcRows.length > 0 && !backendReadsSync()) return this.#tokenLogprobsOnDevice(plan, options, srcRows, targets, outIndex);
    const values = new Float32Array(B * S);
    if (srcRows.length > 0) {
      const picked = tf.tidy(() => {
        const { hidden } = this.#forward(plan, options, null);
        return tf.gather(hidden, tf.tensor1d(srcRows, 'int32'));
      });
      try {
        const chunk = this.#chunkRows(options.chunkRows);
        for (let r0 = 0; r0 < srcRows.length; r0 += chunk) {
          const r1 = Math.min(srcRows.length, r0 + chunk);
          const got = tf.tidy(() => {
            const h = tf.slice(picked, [r0, 0], [r1 - r0, -1]);
            const lsm = tf.reshape(tf.logSoftmax(this.projectToVocab(h)), [-1]);
            const flatIdx = new Int32Array(r1 - r0);
            for (let i = r0; i < r1; i++) flatIdx[i - r0] = (i - r0) * V + (targets[i] as number);
            return tf.gather(lsm, tf.tensor1d(flatIdx, 'int32'));
          });
          const vals = got.dataSync();
          got.dispose();
          for (let i = r0; i < r1; i++) values[outIndex[i] as number] = vals[i - r0] as number;
        }
      } finally {
        picked.dispose();
      }
    }
    return tf.tensor2d(values, [B, S]);
  }

  /** tokenLogprobs without host reads (webgpu): each chunk's log-probs stay on the device; a gather places them. */
  #tokenLogprobsOnDevice(plan: ForwardPlan, options: ForwardOptions, srcRows: number[], targets: number[], outIndex: number[]): tf.Tensor2D {
    const V = this.config.vocabSize;
    const picked = tf.tidy(() => {
      const { hidden } = this.#forward(plan, options, null);
      return tf.gather(hidden, tf.tensor1d(srcRows, 'int32'));
    });
    // slot 0 holds the 0 of padding and column 0; output position outIndex[i] takes log-prob i, in slot i + 1
    const parts: tf.Tensor[] = [tf.zeros([1])];
    try {
      const chunk = this.#chunkRows(options.chunkRows);
      for (let r0 = 0; r0 < srcRows.length; r0 += chunk) {
        const r1 = Math.min(srcRows.length, r0 + chunk);
        parts.push(
          tf.tidy(() => {
            const h = tf.slice(picked, [r0, 0], [r1 - r0, -1]);
            const lsm = tf.reshape(tf.logSoftmax(this.projectToVocab(h)), [-1]);
            const flatIdx = new Int32Array(r1 - r0);
            for (let i = r0; i < r1; i++) flatIdx[i - r0] = (i - r0) * V + (targets[i] as number);
            return tf.gather(lsm, tf.tensor1d(flatIdx, 'int32'));
          }),
        );
      }
      const slot = new Int32Array(plan.batch * plan.seq);
      outIndex.forEach((o, i) => (slot[o] = i + 1));
      return tf.tidy(() => tf.reshape(tf.gather(tf.concat(parts), tf.tensor1d(slot, 'int32')), [plan.batch, plan.seq]) as tf.Tensor2D);
    } finally {
      picked.dispose();
      tf.dispose(parts);
    }
  }

  /**
   * The residual stream after the given decoder blocks (default all), at each row's last real token
   * ([L, B, E]) or at every position ([L, B, S, E]). Block L's output includes any residualAdd at L.
   */
  residualStream(ids: number[][], mask?: number[][], options: ForwardOptions & { layers?: readonly number[]; at?: 'last' | 'all' } = {}): tf.Tensor {
    const layers = options.layers ?? Array.from({ length: this.config.numLayers }, (_, i) => i);
    for (const l of layers) this.#checkLayer(l, 'residualStream');
    const plan = this.#plan(ids, mask, options);
    const at = options.at ?? 'last';
    return tf.tidy(() => {
      const { captured } = this.#forward(plan, options, null, layers);
      const E = this.config.hiddenSize;
      const rows = at === 'last' ? tf.tensor1d(selectRows(plan, 'last').flat, 'int32') : null;
      const per = layers.map((l) => {
        const h = captured.get(l) as tf.Tensor2D;
        return rows === null ? tf.reshape(h, [plan.batch, plan.seq, E]) : tf.gather(h, rows);
      });
      return tf.stack(per);
    });
  }

  // ---------------------------------------------------------------- training

  /**
   * Final-norm hidden states [B, S, E]. Differentiable w.r.t. the hooks' variables (frozen weights get no
   * gradient); use inside tf.variableGrads / optimizer.minimize with the adapter variables as varList.
   */
  hiddenStates(ids: number[][], mask?: number[][], options: ForwardOptions = {}): tf.Tensor3D {
    const plan = this.#plan(ids, mask, options);
    return tf.tidy(() => {
      const { hidden } = this.#forward(plan, options, null);
      return tf.reshape(hidden, [plan.batch, plan.seq, this.config.hiddenSize]) as tf.Tensor3D;
    });
  }

  // ---------------------------------------------------------------- incremental decoding

  /** An empty cache for `batch` rows. */
  newCache(batch: number): KvCache {
    return { keys: [], values: [], keyMask: Array.from({ length: batch }, () => []), nextPosition: new Array<number>(batch).fill(0) };
  }

  /**
   * Run `ids` [B][S] (with mask [B][S]) after what `cache` holds, append their keys/values to the cache, and
   * return the logits at the last slot of each row [B, V]. Positions continue each row's count of real tokens.
   */
  decode(cache: KvCache, ids: number[][], mask?: number[][], options: Omit<ForwardOptions, 'positionIds'> = {}): tf.Tensor2D {
    const batch = checkBatch(ids, mask, this.config.vocabSize);
    if (batch.ids.length !== cache.keyMask.length) throw new Error(`decode: cache has ${cache.keyMask.length} rows but ids have ${batch.ids.length}`);
    const positions = positionsFromMask(batch.mask, cache.nextPosition);
    const plan: ForwardPlan = {
      batch: batch.ids.length,
      seq: batch.ids[0]?.length ?? 0,
      past: cache.keyMask[0]?.length ?? 0,
      ids: batch.ids,
      keyMask: cache.keyMask.map((row, b) => [...row, ...(batch.mask[b] as number[])]),
      positions,
    };
    if (plan.past === 0 && cache.keys.length > 0) throw new Error('internal: cache has tensors but no slots');
    const logits = tf.tidy(() => {
      const { hidden } = this.#forward(plan, options, cache);
      const last = tf.tensor1d(Array.from({ length: plan.batch }, (_, b) => b * plan.seq + plan.seq - 1), 'int32');
      return this.projectToVocab(tf.gather(hidden, last));
    });
    cache.keyMask = plan.keyMask;
    cache.nextPosition = plan.positions.map((row, b) => {
      const m = batch.mask[b] as number[];
      let p = cache.nextPosition[b] as number;
      for (let j = 0; j < row.length; j++) if (m[j] === 1) p++;
      return p;
    });
    return logits;
  }

  disposeCache(cache: KvCache): void {
    for (const t of cache.keys) t.dispose();
    for (const t of cache.values) t.dispose();
    cache.keys = [];
    cache.values = [];
    cache.keyMask = cache.keyMask.map(() => []);
  }

  /** Free every weight. The model is unusable afterwards. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const t of this.#params.values()) t.dispose();
    this.#outputKernelCopy?.dispose();
    this.#outputKernelCopy = null;
    this.#params.clear();
    this.#hooks.clear();
  }

  // ---------------------------------------------------------------- internals

  #spec(name: string): ParamSpec {
    const key = name === LM_HEAD && this.config.tieWordEmbeddings ? EMBED : name;
    const spec = this.#specs.get(key);
    if (spec === undefined) throw new Error(`no parameter "${name}" in this Qwen3 model (see parameterNames())`);
    return spec;
  }

  #param(name: string): tf.Tensor {
    if (this.#disposed) throw new Error('this model has been disposed');
    const t = this.#params.get(name);
    if (t === undefined) throw new Error(`internal: parameter ${name} missing`);
    return t;
  }

  #checkLayer(l: number, what: string): void {
    if (!Number.isInteger(l) || l < 0 || l >= this.config.numLayers) {
      throw new Error(`${what}: layer ${l} is out of range (the model has layers 0..${this.config.numLayers - 1})`);
    }
  }

  #plan(ids: number[][], mask: number[][] | undefined, options: ForwardOptions): ForwardPlan {
    const batch: TokenBatch = checkBatch(ids, mask, this.config.vocabSize);
    const B = batch.ids.length;
    const S = batch.ids[0]?.length ?? 0;
    let positions: number[][];
    if (options.positionIds !== undefined) {
      const p = options.positionIds;
      if (p.length !== B || p.some((r) => r.length !== S || r.some((v) => !Number.isInteger(v) || v < 0))) {
        throw new Error(`positionIds must be [${B}][${S}] non-negative integers`);
      }
      positions = p.map((r) => [...r]);
    } else positions = positionsFromMask(batch.mask);
    for (const r of options.residualAdd ?? []) this.#checkLayer(r.layer, 'residualAdd');
    return { batch: B, seq: S, past: 0, ids: batch.ids, keyMask: batch.mask, positions };
  }

  #chunkRows(requested: number | undefined): number {
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < 1) throw new Error(`chunkRows must be a positive integer, got ${requested}`);
      return requested;
    }
    return Math.max(1, Math.floor(DEFAULT_CHUNK_BYTES / (4 * this.config.vocabSize)));
  }

  /** Apply `fn` to row chunks of h [N, E] and concatenate the results along rows. */
  #chunked(h: tf.Tensor2D, chunkRows: number | undefined, fn: (h: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    const n = h.shape[0];
    const chunk = this.#chunkRows(chunkRows);
    if (n <= chunk) return fn(h);
    const parts: tf.Tensor2D[] = [];
    for (let r0 = 0; r0 < n; r0 += chunk) {
      const r1 = Math.min(n, r0 + chunk);
      parts.push(tf.tidy(() => fn(tf.slice(h, [r0, 0], [r1 - r0, -1]))));
    }
    const out = tf.concat(parts, 0);
    for (const p of parts) p.dispose();
    return out;
  }

  #embed(ids: tf.Tensor1D): tf.Tensor2D {
    const table = this.#param(EMBED);
    // A frozen lookup behind a custom gradient that closes over the table: recorded as a plain GatherV2, the
    // tape would save the table as an input, and saving is a copy on wasm (622 MB for Qwen3-0.6B in training).
    const op = tf.customGrad((...inputs: (tf.Tensor | ((t: tf.Tensor[]) => void))[]) => {
      const i = inputs[0] as tf.Tensor1D;
      const n = i.shape[0];
      return {
        value: tf.gather(table, i, 0),
        gradFunc: () => tf.zeros([n], 'int32'),
      };
    });
    return op(ids) as tf.Tensor2D;
  }

  #linear(module: string, x: tf.Tensor2D, kept?: KeptResults): tf.Tensor2D {
    const weight = this.#param(`${module}.weight`) as tf.Tensor2D;
    const hook = this.#hooks.get(module);
    const base = (xx: tf.Tensor2D): tf.Tensor2D => (kept === undefined ? frozenLinearOutIn(xx, weight) : kept.keep(module, () => frozenLinearOutIn(xx, weight), (y) => frozenLinearOutInKnown(xx, weight, y)));
    if (hook === undefined) return base(x);
    const y = hook.apply(x, base, weight);
    const out = weight.shape[0];
    if (y.rank !== 2 || y.shape[0] !== x.shape[0] || y.shape[1] !== out) {
      throw new Error(`linear hook on ${module} returned shape [${y.shape.join(', ')}], expected [${x.shape[0]}, ${out}]`);
    }
    return y;
  }


  /** The additive mask [B, 1, S, past+S]: causal over slots, padding keys masked. */
  #attentionMask(plan: ForwardPlan): tf.Tensor4D {
    const { batch: B, seq: S, past: P } = plan;
    const T = P + S;
    const causal = new Float32Array(S * T);
    for (let i = 0; i < S; i++) for (let j = P + i + 1; j < T; j++) causal[i * T + j] = MASKED;
    const pad = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      const row = plan.keyMask[b] as number[];
      for (let j = 0; j < T; j++) if (row[j] !== 1) pad[b * T + j] = MASKED;
    }
    return tf.add(tf.tensor4d(causal, [1, 1, S, T]), tf.tensor4d(pad, [B, 1, 1, T]));
  }

  #ropeTensors(plan: ForwardPlan): { cos: tf.Tensor4D; sin: tf.Tensor4D } {
    const { batch: B, seq: S } = plan;
    const half = this.config.headDim / 2;
    const first = plan.positions[0] as number[];
    const shared = plan.positions.every((r) => r.every((v, j) => v === first[j]));
    const rows = shared ? [first] : plan.positions;
    const { cos, sin } = ropeTables(rows, this.#invFreq);
    const shape: [number, number, number, number] = [shared ? 1 : B, 1, S, half];
    return { cos: tf.tensor4d(cos, shape), sin: tf.tensor4d(sin, shape) };
  }

  /**
   * The decoder stack. With a cache, keys/values of earlier slots come from it and the new ones are appended
   * (old cache tensors are disposed). `captureLayers` asks for the residual after those blocks.
   */
  #forward(plan: ForwardPlan, options: ForwardOptions, cache: KvCache | null, captureLayers: readonly number[] = []): ForwardResult {
    const c = this.config;
    const E = c.hiddenSize;
    const eps = c.rmsNormEps;
    const adds = new Map<number, tf.Tensor>();
    for (const r of options.residualAdd ?? []) {
      const v = r.vector instanceof tf.Tensor ? r.vector : tf.tensor1d(r.vector instanceof Float32Array ? r.vector : [...r.vector], 'float32');
      if (v.rank !== 1 || v.shape[0] !== E) throw new Error(`residualAdd at layer ${r.layer}: vector has shape [${v.shape.join(', ')}], expected [${E}]`);
      const scaled = r.scale === undefined || r.scale === 1 ? v : tf.mul(v, r.scale);
      const prev = adds.get(r.layer);
      adds.set(r.layer, prev === undefined ? scaled : tf.add(prev, scaled));
    }
    const capture = new Set(captureLayers);
    const captured = new Map<number, tf.Tensor2D>();

    const idsT = tf.tensor1d(plan.ids.flat(), 'int32');
    let x = this.#embed(idsT);
    const mask = this.#attentionMask(plan);
    const { cos, sin } = this.#ropeTensors(plan);

    for (let l = 0; l < c.numLayers; l++) {
      // One tidy per layer: without it every layer's intermediates live until the caller's tidy ends
      // (measured 7.7 GB of tensors at 4x128 on the 0.6B shape, beyond the 4 GB wasm heap). Gradient
      // recording keeps what backprop needs regardless.
      const add = adds.get(l);
      const aux: tf.Tensor[] = add === undefined ? [mask, cos, sin] : [mask, cos, sin, add];
      const run = (xx: tf.Tensor2D, a: readonly tf.Tensor[]): tf.Tensor2D => this.#layer(l, xx, plan, cache, a[0] as tf.Tensor4D, a[1] as tf.Tensor4D, a[2] as tf.Tensor4D, a[3], cache === null ? options.keptResults : undefined);
      const xl = x;
      x = options.wrapLayer !== undefined && cache === null ? options.wrapLayer(l, xl, aux, run) : tf.tidy(() => run(xl, aux));
      if (capture.has(l)) captured.set(l, x);
    }
    const hidden = rmsNorm(x, this.#param(FINAL_NORM) as tf.Tensor1D, eps);
    return { hidden, captured };
  }

  #layer(l: number, xIn: tf.Tensor2D, plan: ForwardPlan, cache: KvCache | null, mask: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D,
    add: tf.Tensor | undefined, kept?: KeptResults): tf.Tensor2D {
    const c = this.config;
    const { batch: B, seq: S } = plan;
    const KVH = c.numKvHeads;
    const D = c.headDim;
    const scale = Math.fround(1 / Math.sqrt(D));
    const eps = c.rmsNormEps;
    let x = xIn;
    {
      const p = `model.layers.${l}`;
      const h = rmsNorm(x, this.#param(`${p}.input_layernorm.weight`) as tf.Tensor1D, eps);
      const q = qkNormRope(this.#linear(`${p}.self_attn.q_proj`, h, kept), this.#param(`${p}.self_attn.q_norm.weight`) as tf.Tensor1D, cos, sin, B, S, eps);
      let k = qkNormRope(this.#linear(`${p}.self_attn.k_proj`, h, kept), this.#param(`${p}.self_attn.k_norm.weight`) as tf.Tensor1D, cos, sin, B, S, eps);
      let v = tf.transpose(tf.reshape(this.#linear(`${p}.self_attn.v_proj`, h, kept), [B, S, KVH, D]), [0, 2, 1, 3]) as tf.Tensor4D;
      if (cache !== null) {
        const pastK = cache.keys[l];
        const pastV = cache.values[l];
        if (pastK !== undefined && pastV !== undefined) {
          k = tf.concat([pastK, k], 2);
          v = tf.concat([pastV, v], 2);
          pastK.dispose();
          pastV.dispose();
        }
        cache.keys[l] = tf.keep(k);
        cache.values[l] = tf.keep(v);
      }
      const merged = kept === undefined || !attentionIsOneKernel() ? attention(q, k, v, mask, scale) : kept.keep(`${p}.self_attn`, () => attention(q, k, v, mask, scale), (y) => attentionKnown(q, k, v, mask, scale, y) as tf.Tensor2D);
      x = tf.add(x, this.#linear(`${p}.self_attn.o_proj`, merged, kept));

      const h2 = rmsNorm(x, this.#param(`${p}.post_attention_layernorm.weight`) as tf.Tensor1D, eps);
      const gate = this.#linear(`${p}.mlp.gate_proj`, h2, kept);
      const up = this.#linear(`${p}.mlp.up_proj`, h2, kept);
      x = tf.add(x, this.#linear(`${p}.mlp.down_proj`, swiglu(gate, up), kept));

      if (add !== undefined) x = tf.add(x, add);
    }
    return x;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Flat row indices into [B*S] hidden states for a position selector, and how many per row. */
function selectRows(plan: ForwardPlan, at: PositionSelector): { flat: number[]; perRow: number; identity: boolean } {
  const { batch: B, seq: S, past } = plan;
  const rowMask = plan.keyMask.map((r) => r.slice(past));
  if (at === 'all') return { flat: Array.from({ length: B * S }, (_, i) => i), perRow: S, identity: true };
  const last = lastRealIndex(rowMask);
  if (at === 'last') return { flat: last.map((j, b) => b * S + j), perRow: 1, identity: false };
  if (at.length === 0) throw new Error('positions: empty list');
  const flat: number[] = [];
  for (let b = 0; b < B; b++) {
    const end = (last[b] as number) + 1;
    for (const i of at) {
      if (!Number.isInteger(i)) throw new Error(`positions: ${i} is not an integer`);
      const j = i < 0 ? end + i : i;
      if (j < 0 || j >= S) throw new Error(`positions: index ${i} is outside row ${b} (length ${end}${S !== end ? `, padded to ${S}` : ''})`);
      flat.push(b * S + j);
    }
  }
  return { flat, perRow: at.length, identity: false };
}
