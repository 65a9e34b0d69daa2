/**
 * An adapter attached to a model: one AdapterLayer hooked into each targeted linear module.
 * Created fresh for training (seeded init) or loaded from a PEFT directory; saved back in PEFT's format
 * (PiSSA converted to plain LoRA against the original weights, as PEFT's path_initial_model_for_weight_conversion
 * does); merged into full weights (merge_and_unload) or detached, leaving the model as it was.
 *
 * The base weights are never copied into variables: hooks read them through the model. The only weight the
 * adapter replaces is PiSSA's residual; the original is kept (or, with `reloadOriginal`, dropped and re-read on
 * detach, so training holds a single copy of every base weight).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostRead, HostReading } from '../host-read.js';
import { runAsync, runSync, syncRead, withAsyncReads } from '../host-read.js';
import { Rng } from '../random.js';
import type { AdapterLayer } from './adapter-layer.js';
import { adapterTypeOf } from './adapter-config.js';
import type { AdapterType, LoraConfig, PeftAdapterConfig } from './adapter-config.js';
import { initLayerReading, layerFromSavedReading, savedSuffixes } from './layer-factory.js';
import type { BuiltLayer, ModuleGeometry, SavedTensor } from './layer-factory.js';
import type { HookableModel } from './linear-hook.js';
import { LoraLayer } from './lora-layer.js';
import { PEFT_KEY_PREFIX, readPeftDir, writePeftDir } from './peft-dir.js';
import { resolveTargets, savedTargetModules } from './target-modules.js';
import type { TargetedModule } from './target-modules.js';

export interface AttachOptions {
  /** config.json model_type; PEFT's default target modules depend on it */
  modelType: string;
  /** seed of the initialisation (and of pissa_niter_K's random projection); default 0 */
  seed?: number;
  /**
   * PiSSA only: return a module's ORIGINAL weight (e.g. re-read from the checkpoint) when the adapter is
   * detached. When given, the original is released while the residual is in place; otherwise it is kept.
   */
  reloadOriginal?: (parameterName: string) => tf.Tensor;
  onWarning?: (message: string) => void;
}

export interface NamedWeight {
  /** HF parameter name, e.g. "model.layers.3.self_attn.q_proj.weight" */
  name: string;
  shape: number[];
  data: Float32Array;
}

function weightName(module: string): string {
  return `${module}.weight`;
}

function geometry(model: HookableModel, target: TargetedModule): ModuleGeometry {
  const name = weightName(target.module);
  const shape = model.parameterShape(name);
  if (shape.length !== 2) throw new Error(`${name} has shape [${shape.join(', ')}], expected a 2-D linear weight`);
  const [outFeatures, inFeatures] = shape as [number, number];
  return { target, inFeatures, outFeatures, weight: () => model.getParameter(name) as tf.Tensor2D };
}

/** The module's merged weight, computed from a transient copy of its current base weight. */
function mergedOf(model: HookableModel, layer: AdapterLayer): tf.Tensor2D {
  const w = model.getParameter(weightName(layer.module)) as tf.Tensor2D;
  try {
    return layer.mergedWeight(w);
  } finally {
    w.dispose();
  }
}

function describeTargets(config: PeftAdapterConfig): string {
  const lt = config.peft_type === 'IA3' ? null : config.layers_to_transform;
  return `target_modules=${JSON.stringify(config.target_modules)}${lt !== null ? `, layers_to_transform=${JSON.stringify(lt)}` : ''}${config.exclude_modules !== null ? `, exclude_modules=${JSON.stringify(config.exclude_modules)}` : ''}`;
}

export class AttachedAdapter {
  readonly config: PeftAdapterConfig;
  readonly type: AdapterType;
  readonly modelType: string;
  readonly targets: readonly TargetedModule[];
  readonly #layers: AdapterLayer[] = [];
  readonly #model: HookableModel;
  /** PiSSA: parameter name -> original weight (null when it will be reloaded) */
  readonly #originals = new Map<string, tf.Tensor | null>();
  readonly #reloadOriginal: ((name: string) => tf.Tensor) | undefined;
  #attached = true;

  private constructor(model: HookableModel, config: PeftAdapterConfig, opts: AttachOptions, targets: TargetedModule[]) {
    this.#model = model;
    this.config = config;
    this.type = adapterTypeOf(config);
    this.modelType = opts.modelType;
    this.targets = targets;
    this.#reloadOriginal = opts.reloadOriginal;
  }

  get layers(): readonly AdapterLayer[] {
    return this.#layers;
  }

  /** Builds and hooks one layer per target; on any failure the model is left as it was. */
  static *#attach(model: HookableModel, config: PeftAdapterConfig, opts: AttachOptions, targets: TargetedModule[], build: (g: ModuleGeometry) => HostReading<BuiltLayer>): HostReading<AttachedAdapter> {
    const a = new AttachedAdapter(model, config, opts, targets);
    try {
      for (const t of targets) {
        const g = geometry(model, t);
        const built = yield* build(g);
        a.#layers.push(built.layer);
        if (built.residual !== undefined) {
          const name = weightName(t.module);
          const residual = tf.tensor2d(built.residual, [g.outFeatures, g.inFeatures]);
          const previous = model.setParameter(name, residual);
          residual.dispose();
          if (a.#reloadOriginal !== undefined) {
            previous.dispose();
            a.#originals.set(name, null);
          } else {
            a.#originals.set(name, previous);
          }
        }
        model.setLinearHook(t.module, built.layer);
      }
    } catch (err) {
      a.#detachQuietly();
      throw err;
    }
    return a;
  }

  static *#created(model: HookableModel, config: PeftAdapterConfig, opts: AttachOptions): HostReading<AttachedAdapter> {
    const targets = resolveTargets(config, model.linearModuleNames(), opts.modelType);
    if (targets.length === 0) throw new Error(`the adapter config targets no linear module of the model (${describeTargets(config)})`);
    const rng = new Rng(opts.seed ?? 0);
    return yield* AttachedAdapter.#attach(model, config, opts, targets, (g) => initLayerReading(config, g, rng));
  }

  /** A freshly initialised adapter (training). Throws when the config targets no module of the model. Not on webgpu: createAsync. */
  static create(model: HookableModel, config: PeftAdapterConfig, opts: AttachOptions): AttachedAdapter {
    return runSync(AttachedAdapter.#created(model, config, opts));
  }

  /** create, reading host values asynchronously: works on every backend, webgpu included. */
  static createAsync(model: HookableModel, config: PeftAdapterConfig, opts: AttachOptions): Promise<AttachedAdapter> {
    return runAsync(AttachedAdapter.#created(model, config, opts));
  }

  static *#loaded(model: HookableModel, dir: string, opts: AttachOptions): HostReading<AttachedAdapter> {
    const peft = readPeftDir(dir);
    for (const w of peft.warnings) opts.onWarning?.(w);
    const file = `${dir}/adapter_model.safetensors`;
    const targets = resolveTargets(peft.config, model.linearModuleNames(), opts.modelType);
    if (targets.length === 0) throw new Error(`${dir}/adapter_config.json targets no linear module of the model (${describeTargets(peft.config)})`);
    const byModule = new Map<string, Map<string, SavedTensor>>();
    const suffixes = new Set(savedSuffixes(peft.config));
    const targeted = new Set(targets.map((t) => t.module));
    for (const [key, t] of peft.tensors) {
      if (!key.startsWith(PEFT_KEY_PREFIX)) throw new Error(`${file}: tensor "${key}" does not start with "${PEFT_KEY_PREFIX}" (not a PEFT adapter state dict)`);
      const rest = key.slice(PEFT_KEY_PREFIX.length);
      const suffix = [...suffixes].find((s) => rest.endsWith(`.${s}`));
      if (suffix === undefined) throw new Error(`${file}: tensor "${key}" is not a ${peft.config.peft_type} adapter tensor (expected a suffix among ${[...suffixes].join(', ')})`);
      const module = rest.slice(0, rest.length - suffix.length - 1);
      if (!targeted.has(module)) throw new Error(`${file}: tensor "${key}" belongs to module ${module}, which the config does not target (${describeTargets(peft.config)})`);
      let m = byModule.get(module);
      if (m === undefined) byModule.set(module, (m = new Map()));
      m.set(suffix, { ...t, key });
    }
    const rng = new Rng(opts.seed ?? 0);
    return yield* AttachedAdapter.#attach(model, peft.config, opts, targets, function* (g) {
      const saved = byModule.get(g.target.module) ?? new Map<string, SavedTensor>();
      try {
        return yield* layerFromSavedReading(peft.config, g, saved, rng);
      } catch (err) {
        throw new Error(`${file}: ${(err as Error).message}`);
      }
    });
  }

  /** An adapter read from a PEFT directory; every tensor must belong to a targeted module and have its shape. Not on webgpu: loadAsync. */
  static load(model: HookableModel, dir: string, opts: AttachOptions): AttachedAdapter {
    return runSync(AttachedAdapter.#loaded(model, dir, opts));
  }

  /** load, reading host values asynchronously: works on every backend, webgpu included. */
  static loadAsync(model: HookableModel, dir: string, opts: AttachOptions): Promise<AttachedAdapter> {
    return runAsync(AttachedAdapter.#loaded(model, dir, opts));
  }

  trainableVariables(): tf.Variable[] {
    return this.layers.flatMap((l) => [...l.variables]);
  }

  get isPissa(): boolean {
    return this.layers.some((l) => l instanceof LoraLayer && l.pissaInitial !== undefined);
  }

  /** The config as saved: concrete target modules; PiSSA converted to plain LoRA with rank and alpha doubled. */
  savedConfig(baseModelNameOrPath: string | null): PeftAdapterConfig {
    const saved = savedTargetModules(this.config, this.targets, this.modelType);
    const common = { base_model_name_or_path: baseModelNameOrPath, inference_mode: true, target_modules: saved.target, peft_version: '0.20.0' };
    if (this.config.peft_type === 'IA3') return { ...this.config, ...common, feedforward_modules: saved.feedforward ?? null };
    if (this.config.peft_type === 'LORA' && this.isPissa) return { ...convertedPissaConfig(this.config), ...common };
    return { ...this.config, ...common };
  }

  /** The state dict PEFT would save (full keys); synchronous reads by default (not on webgpu: peftTensorsAsync). */
  peftTensors(read: HostRead = syncRead): NamedWeight[] {
    const out: NamedWeight[] = [];
    for (const layer of this.layers) {
      const state = layer instanceof LoraLayer && layer.pissaInitial !== undefined ? layer.convertedPissaState(read) : layer.state(read);
      for (const s of state) out.push({ name: `${PEFT_KEY_PREFIX}${layer.module}.${s.suffix}`, shape: s.shape, data: s.data });
    }
    return out;
  }

  /** Write adapter_config.json + adapter_model.safetensors into `dir`. On webgpu after training: saveAsync. */
  save(dir: string, baseModelNameOrPath: string | null): void {
    writePeftDir(dir, this.savedConfig(baseModelNameOrPath), this.peftTensors().map((t) => ({ key: t.name, shape: t.shape, data: t.data })));
  }

  /** save, reading the tensors asynchronously: works on every backend, webgpu included. */
  async saveAsync(dir: string, baseModelNameOrPath: string | null): Promise<void> {
    const tensors = await this.peftTensorsAsync();
    writePeftDir(dir, this.savedConfig(baseModelNameOrPath), tensors.map((t) => ({ key: t.name, shape: t.shape, data: t.data })));
  }

  /** peftTensors, read asynchronously: works on every backend, webgpu included. */
  peftTensorsAsync(): Promise<NamedWeight[]> {
    return withAsyncReads((read) => this.peftTensors(read));
  }

  /** The merged weight of every adapted module (what merge_and_unload would leave), one at a time. */
  *mergedWeights(): Generator<NamedWeight> {
    for (const layer of this.layers) {
      const name = weightName(layer.module);
      const merged = mergedOf(this.#model, layer);
      try {
        yield { name, shape: [...merged.shape], data: (merged.dataSync() as Float32Array).slice() };
      } finally {
        merged.dispose();
      }
    }
  }

  /** mergedWeights, read back asynchronously: works on every backend, webgpu included. */
  async *mergedWeightsAsync(): AsyncGenerator<NamedWeight> {
    for (const layer of this.layers) {
      const name = weightName(layer.module);
      const merged = mergedOf(this.#model, layer);
      try {
        yield { name, shape: [...merged.shape], data: Float32Array.from((await merged.data()) as Float32Array) };
      } finally {
        merged.dispose();
      }
    }
  }

  /** merge_and_unload: the model keeps the merged weights and loses the hooks; the adapter is spent. */
  mergeAndUnload(): void {
    this.#assertAttached();
    for (const layer of this.layers) {
      const name = weightName(layer.module);
      const merged = mergedOf(this.#model, layer);
      this.#model.setParameter(name, merged).dispose();
      merged.dispose();
      this.#model.setLinearHook(layer.module, null);
      const original = this.#originals.get(name);
      if (original !== undefined && original !== null) original.dispose();
      this.#originals.delete(name);
    }
    this.#release();
  }

  /** Remove the hooks and restore every replaced base weight; the model is as before attaching. */
  detach(): void {
    this.#assertAttached();
    this.#detachQuietly();
  }

  #detachQuietly(): void {
    for (const layer of this.layers) this.#model.setLinearHook(layer.module, null);
    for (const [name, original] of this.#originals) {
      let restore = original;
      if (restore === null) {
        if (this.#reloadOriginal === undefined) throw new Error(`internal: no way to restore ${name}`);
        restore = this.#reloadOriginal(name);
      }
      this.#model.setParameter(name, restore).dispose();
      restore.dispose();
    }
    this.#originals.clear();
    this.#release();
  }

  #release(): void {
    for (const layer of this.layers) layer.dispose();
    this.#attached = false;
  }

  #assertAttached(): void {
    if (!this.#attached) throw new Error('this adapter was already merged or detached');
  }
}

/** PEFT's conversion of a PiSSA config to the equivalent plain LoRA config (rank 2r, same scaling). */
export function convertedPissaConfig(c: LoraConfig): LoraConfig {
  const alphaFactor = c.use_rslora ? Math.SQRT2 : 2;
  const scale = (p: Record<string, number>, f: number): Record<string, number> => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v * f]));
  return {
    ...c,
    r: c.r * 2,
    lora_alpha: c.lora_alpha * alphaFactor,
    init_lora_weights: true,
    rank_pattern: scale(c.rank_pattern, 2),
    alpha_pattern: scale(c.alpha_pattern, alphaFactor),
  };
}
