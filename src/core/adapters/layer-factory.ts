/**
 * Builds adapter layers for targeted modules: freshly initialised (training) or from saved PEFT tensors
 * (loading), with PEFT's per-method initialisation and checks of every tensor's shape.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostReading } from '../host-read.js';
import { readAndDispose, runSync } from '../host-read.js';
import type { Rng } from '../random.js';
import type { AdapterLayer } from './adapter-layer.js';
import { expectShape } from './adapter-layer.js';
import type { DeloraConfig, Ia3Config, LoraConfig, OftConfig, PeftAdapterConfig } from './adapter-config.js';
import { columnNormsOf, DeloraLayer } from './delora-layer.js';
import { Ia3Layer } from './ia3-layer.js';
import { kaimingUniform, normal } from './init.js';
import { LoraLayer } from './lora-layer.js';
import { OftLayer, resolveOftBlocks } from './oft-layer.js';
import { pissaInit, pissaMethodOf } from './pissa-init.js';
import type { TargetedModule } from './target-modules.js';

export interface ModuleGeometry {
  target: TargetedModule;
  inFeatures: number;
  outFeatures: number;
  /** the module's current base weight [out, in] (read lazily; the caller owns it) */
  weight: () => tf.Tensor2D;
}

export interface BuiltLayer {
  layer: AdapterLayer;
  /** PiSSA: the residual base weight that must replace the module's weight [out, in] */
  residual?: Float32Array;
}

/** A saved tensor as read from adapter_model.safetensors. */
export interface SavedTensor {
  key: string;
  shape: number[];
  data: Float32Array;
}

export function loraScaling(config: LoraConfig, r: number, alpha: number): number {
  return config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
}

function isPissa(config: LoraConfig): config is LoraConfig & { init_lora_weights: string } {
  return typeof config.init_lora_weights === 'string' && config.init_lora_weights.startsWith('pissa');
}

function rowNorms(weight: tf.Tensor2D, delta?: tf.Tensor2D): HostReading<Float32Array> {
  return readAndDispose(
    tf.tidy(() => {
      const w = delta === undefined ? weight : tf.add(weight, delta);
      return tf.sqrt(tf.sum(tf.square(w), 1));
    }),
  );
}

function rowNormsSquared(weight: tf.Tensor2D): HostReading<Float32Array> {
  return readAndDispose(tf.tidy(() => tf.sum(tf.square(weight), 1)));
}

// ---------------------------------------------------------------------------------------------------------
// New layers (training)

/** A new layer; synchronous host reads (not on webgpu: drive initLayerReading with runAsync there). */
export function initLayer(config: PeftAdapterConfig, g: ModuleGeometry, rng: Rng): BuiltLayer {
  return runSync(initLayerReading(config, g, rng));
}

/** initLayer as a HostReading: drive it with runSync or runAsync. */
export function* initLayerReading(config: PeftAdapterConfig, g: ModuleGeometry, rng: Rng): HostReading<BuiltLayer> {
  switch (config.peft_type) {
    case 'LORA':
      return yield* initLora(config, g, rng);
    case 'DELORA':
      return { layer: yield* initDelora(config, g, rng) };
    case 'OFT':
      return { layer: initOft(config, g, rng) };
    case 'IA3':
      return { layer: initIa3(config, g, rng) };
  }
}

function* initLora(config: LoraConfig, g: ModuleGeometry, rng: Rng): HostReading<BuiltLayer> {
  const { r, alpha } = g.target;
  const scaling = loraScaling(config, r, alpha);
  const base = { module: g.target.module, inFeatures: g.inFeatures, outFeatures: g.outFeatures, r, scaling };
  if (isPissa(config)) {
    if (r > Math.min(g.inFeatures, g.outFeatures)) throw new Error(`${g.target.module}: PiSSA rank ${r} exceeds min(out, in) = ${Math.min(g.inFeatures, g.outFeatures)}`);
    const values = yield* readAndDispose(g.weight());
    const init = pissaInit(values, g.outFeatures, g.inFeatures, r, scaling, pissaMethodOf(config.init_lora_weights, rng));
    const layer = new LoraLayer({ ...base, A: init.A, B: init.B, pissaInitial: { A0: init.A.slice(), B0: init.B.slice() } });
    return { layer, residual: init.residual };
  }
  let A: Float32Array;
  let B: Float32Array;
  if (config.init_lora_weights === true) {
    A = kaimingUniform(rng, r, g.inFeatures);
    B = new Float32Array(g.outFeatures * r);
  } else if (config.init_lora_weights === 'gaussian') {
    A = normal(rng, r * g.inFeatures, 1 / r);
    B = new Float32Array(g.outFeatures * r);
  } else if (config.init_lora_weights === false) {
    // nn.Linear's own default init for both factors: U(±1/√fan_in)
    A = kaimingUniform(rng, r, g.inFeatures);
    B = kaimingUniform(rng, g.outFeatures, r);
  } else {
    throw new Error(`unsupported init_lora_weights ${JSON.stringify(config.init_lora_weights)}`);
  }
  if (config.use_dora) {
    const w = g.weight();
    const delta = tf.tidy(() => tf.mul(tf.matMul(tf.tensor2d(B, [g.outFeatures, r]), tf.tensor2d(A, [r, g.inFeatures])), scaling) as tf.Tensor2D);
    let magnitude: Float32Array;
    let weightRowNormSq: Float32Array;
    try {
      magnitude = yield* rowNorms(w, delta);
      weightRowNormSq = yield* rowNormsSquared(w);
    } finally {
      delta.dispose();
      w.dispose();
    }
    return { layer: new LoraLayer({ ...base, A, B, magnitude, weightRowNormSq }) };
  }
  return { layer: new LoraLayer({ ...base, A, B }) };
}

function* initDelora(config: DeloraConfig, g: ModuleGeometry, rng: Rng): HostReading<AdapterLayer> {
  const { r, lambda } = g.target;
  const A = kaimingUniform(rng, r, g.inFeatures);
  const B = config.init_weights ? new Float32Array(g.outFeatures * r) : kaimingUniform(rng, g.outFeatures, r);
  const w = g.weight();
  let wNorm: Float32Array;
  try {
    wNorm = yield* readAndDispose(columnNormsOf(w));
  } finally {
    w.dispose();
  }
  return new DeloraLayer({ module: g.target.module, inFeatures: g.inFeatures, outFeatures: g.outFeatures, r, A, B, lambda: Float32Array.of(lambda), wNorm });
}

function oftGeometry(config: OftConfig, g: ModuleGeometry): { blockSize: number; nBlocks: number; rows: number; k: number } {
  const { blockSize, nBlocks } = resolveOftBlocks(g.inFeatures, config.r, config.oft_block_size);
  const rows = config.block_share ? 1 : nBlocks;
  return { blockSize, nBlocks, rows, k: (blockSize * (blockSize - 1)) / 2 };
}

function oftValues(config: OftConfig, g: ModuleGeometry, blockSize: number, nBlocks: number, R: Float32Array): OftLayer {
  return new OftLayer({
    module: g.target.module,
    inFeatures: g.inFeatures,
    outFeatures: g.outFeatures,
    blockSize,
    nBlocks,
    blockShare: config.block_share,
    useCayleyNeumann: config.use_cayley_neumann,
    numCayleyNeumannTerms: config.num_cayley_neumann_terms,
    coft: config.coft,
    eps: config.eps,
    R,
  });
}

function initOft(config: OftConfig, g: ModuleGeometry, rng: Rng): AdapterLayer {
  const { blockSize, nBlocks, rows, k } = oftGeometry(config, g);
  const R = config.init_weights ? new Float32Array(rows * k) : normal(rng, rows * k, 0.1);
  return oftValues(config, g, blockSize, nBlocks, R);
}

function initIa3(config: Ia3Config, g: ModuleGeometry, rng: Rng): AdapterLayer {
  const [rows, cols] = Ia3Layer.shapeOf(g.target.feedforward, g.inFeatures, g.outFeatures);
  const l = config.init_ia3_weights ? new Float32Array(rows * cols).fill(1) : normal(rng, rows * cols, 1);
  return new Ia3Layer({ module: g.target.module, inFeatures: g.inFeatures, outFeatures: g.outFeatures, feedforward: g.target.feedforward, l });
}

// ---------------------------------------------------------------------------------------------------------
// Layers from saved tensors (loading)

/**
 * Build a layer from the module's saved tensors (suffix -> tensor). Throws with the tensor's full key when one
 * is missing or has the wrong shape. Unconverted PiSSA adapters (init_lora_weights "pissa…") recompute the
 * residual base weight from the given (original) weight, as PEFT does when loading them.
 */
export function layerFromSaved(config: PeftAdapterConfig, g: ModuleGeometry, saved: ReadonlyMap<string, SavedTensor>, rng: Rng): BuiltLayer {
  return runSync(layerFromSavedReading(config, g, saved, rng));
}

/** layerFromSaved as a HostReading: drive it with runSync or runAsync. */
export function* layerFromSavedReading(config: PeftAdapterConfig, g: ModuleGeometry, saved: ReadonlyMap<string, SavedTensor>, rng: Rng): HostReading<BuiltLayer> {
  const prefix = `base_model.model.${g.target.module}.`;
  const take = (suffix: string, shape: number[]): Float32Array => {
    const t = saved.get(suffix);
    if (t === undefined) throw new Error(`missing tensor "${prefix}${suffix}" for targeted module ${g.target.module}`);
    expectShape(t.key, t.shape, shape);
    return t.data;
  };
  const { module, r, alpha, lambda, feedforward } = g.target;
  const dims = { module, inFeatures: g.inFeatures, outFeatures: g.outFeatures };
  switch (config.peft_type) {
    case 'LORA': {
      const scaling = loraScaling(config, r, alpha);
      const A = take('lora_A.weight', [r, g.inFeatures]);
      const B = take('lora_B.weight', [g.outFeatures, r]);
      let layer: LoraLayer;
      if (config.use_dora) {
        const magnitude = take('lora_magnitude_vector', [g.outFeatures]);
        const w = g.weight();
        let weightRowNormSq: Float32Array;
        try {
          weightRowNormSq = yield* rowNormsSquared(w);
        } finally {
          w.dispose();
        }
        layer = new LoraLayer({ ...dims, r, scaling, A, B, magnitude, weightRowNormSq });
      } else {
        layer = new LoraLayer({ ...dims, r, scaling, A, B });
      }
      if (!isPissa(config)) return { layer };
      const values = yield* readAndDispose(g.weight());
      const init = pissaInit(values, g.outFeatures, g.inFeatures, r, scaling, pissaMethodOf(config.init_lora_weights, rng));
      return { layer, residual: init.residual };
    }
    case 'DELORA': {
      const A = take('delora_A', [r, g.inFeatures]);
      const B = take('delora_B', [g.outFeatures, r]);
      const lam = take('delora_lambda', [1]);
      const wNorm = take('delora_w_norm', [g.inFeatures]);
      void lambda; // the saved (trained) lambda wins over the config's initial value
      return { layer: new DeloraLayer({ ...dims, r, A, B, lambda: lam, wNorm }) };
    }
    case 'OFT': {
      const { blockSize, nBlocks, rows, k } = oftGeometry(config, g);
      const R = take('oft_R.weight', [rows, k]);
      return { layer: oftValues(config, g, blockSize, nBlocks, R) };
    }
    case 'IA3': {
      const l = take('ia3_l', Ia3Layer.shapeOf(feedforward, g.inFeatures, g.outFeatures));
      return { layer: new Ia3Layer({ ...dims, feedforward, l }) };
    }
  }
}

/** The suffixes PEFT saves per module for a config (used to report unexpected keys). */
export function savedSuffixes(config: PeftAdapterConfig): string[] {
  switch (config.peft_type) {
    case 'LORA':
      return config.use_dora ? ['lora_A.weight', 'lora_B.weight', 'lora_magnitude_vector'] : ['lora_A.weight', 'lora_B.weight'];
    case 'DELORA':
      return ['delora_A', 'delora_B', 'delora_lambda', 'delora_w_norm'];
    case 'OFT':
      return ['oft_R.weight'];
    case 'IA3':
      return ['ia3_l'];
  }
}
