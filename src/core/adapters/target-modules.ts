/**
 * Which linear modules an adapter config targets, with PEFT's matching rules (tuners_utils
 * `check_target_module_exists`, `_maybe_include_all_linear_layers`; utils `get_pattern_key`):
 *
 * - target_modules as a string: a regex that must match the whole module name ("all-linear", any case, means
 *   every linear layer except the output head);
 * - as a list: a module matches if its name equals an entry or ends with "." + entry; then, if
 *   layers_to_transform is set, only modules whose layer index (found with layers_pattern, or the last
 *   "<segment>.<digits>." in the name) is listed;
 * - exclude_modules (regex string or list, same rules) wins over target_modules;
 * - rank_pattern / alpha_pattern / lambda_pattern: the first pattern p (in insertion order) with
 *   re.match(r"(.*\.)?(p)$", name) gives the value, else the config's.
 * - null target_modules: PEFT's per-model-type defaults (only qwen3 here).
 */
import type { DeloraConfig, Ia3Config, LoraConfig, ModuleSelector, OftConfig, PeftAdapterConfig } from './adapter-config.js';

/** PEFT's TRANSFORMERS_MODELS_TO_*_TARGET_MODULES_MAPPING entries for qwen3. */
const QWEN3_DEFAULT_TARGETS: Record<PeftAdapterConfig['peft_type'], string[]> = {
  LORA: ['q_proj', 'v_proj'],
  DELORA: ['q_proj', 'v_proj'],
  OFT: ['q_proj', 'v_proj'],
  IA3: ['q_proj', 'v_proj', 'down_proj'],
};
const QWEN3_DEFAULT_IA3_FEEDFORWARD = ['down_proj'];

export interface TargetedModule {
  /** HF module name, e.g. "model.layers.3.self_attn.q_proj" */
  module: string;
  /** LoRA/DeLoRA rank after rank_pattern (OFT/IA3: unused, 0) */
  r: number;
  /** LoRA alpha after alpha_pattern */
  alpha: number;
  /** DeLoRA initial lambda after lambda_pattern */
  lambda: number;
  /** IA3: the module scales its input (feedforward) rather than its output */
  feedforward: boolean;
}

function fullMatch(pattern: string, key: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(key);
}

function selectorMatches(sel: string[] | string, key: string): boolean {
  if (typeof sel === 'string') return fullMatch(sel, key);
  return sel.includes(key) || sel.some((t) => key.endsWith(`.${t}`));
}

function layerIndex(key: string, layersPattern: string | string[] | null): number | undefined {
  const patterns = layersPattern === null || layersPattern.length === 0 ? null : typeof layersPattern === 'string' ? [layersPattern] : layersPattern;
  if (patterns === null) {
    const m = /^.*\.[^.]*\.(\d+)\./.exec(key);
    return m?.[1] !== undefined ? parseInt(m[1], 10) : undefined;
  }
  for (const p of patterns) {
    const m = new RegExp(`^.*\\.${p}\\.(\\d+)\\.`).exec(key);
    if (m?.[1] !== undefined) return parseInt(m[1], 10);
  }
  return undefined;
}

/** PEFT's get_pattern_key: the first pattern matching the end of the name (after a dot), if any. */
export function patternValue(patterns: Record<string, number>, key: string): number | undefined {
  for (const [p, v] of Object.entries(patterns)) {
    if (new RegExp(`^(.*\\.)?(${p})$`).test(key)) return v;
  }
  return undefined;
}

export function isAllLinear(sel: ModuleSelector): boolean {
  return typeof sel === 'string' && sel.toLowerCase() === 'all-linear';
}

/** target_modules with null resolved to PEFT's qwen3 defaults. */
export function effectiveTargetModules(config: PeftAdapterConfig, modelType: string): string | string[] {
  if (config.target_modules !== null) return config.target_modules;
  if (modelType !== 'qwen3') {
    throw new Error(`adapter config has no target_modules and wsflow only knows PEFT's defaults for model_type "qwen3" (model is "${modelType}"); set target_modules`);
  }
  return [...QWEN3_DEFAULT_TARGETS[config.peft_type]];
}

function effectiveFeedforward(config: Ia3Config, modelType: string): string | string[] {
  if (config.feedforward_modules !== null) return config.feedforward_modules;
  // PEFT fills a missing feedforward_modules from the model-type mapping, independently of target_modules
  if (modelType === 'qwen3') return [...QWEN3_DEFAULT_IA3_FEEDFORWARD];
  throw new Error(`IA3 config has no feedforward_modules and wsflow only knows PEFT's defaults for model_type "qwen3" (model is "${modelType}")`);
}

/**
 * The modules of `linearModules` (a model's linear layers, output head excluded) that `config` adapts, in the
 * model's order, with their per-module rank/alpha/lambda and IA3 feedforward flag.
 */
export function resolveTargets(config: PeftAdapterConfig, linearModules: readonly string[], modelType: string): TargetedModule[] {
  const candidates = linearModules.filter((m) => m !== 'lm_head' && !m.endsWith('.lm_head'));
  let target = effectiveTargetModules(config, modelType);
  if (isAllLinear(target)) target = [...candidates];
  const allLinear = isAllLinear(config.target_modules);
  const layersToTransform = config.peft_type === 'IA3' ? null : config.layers_to_transform;
  const layersPattern = config.peft_type === 'IA3' ? null : config.layers_pattern;
  const out: TargetedModule[] = [];
  for (const key of candidates) {
    if (config.exclude_modules !== null && selectorMatches(config.exclude_modules, key)) continue;
    let found: boolean;
    if (typeof target === 'string') found = fullMatch(target, key);
    else if (target.includes(key) && !allLinear) found = true;
    else {
      found = allLinear ? target.includes(key) : target.some((t) => key.endsWith(`.${t}`));
      const usingLayers = layersToTransform !== null && (!Array.isArray(layersToTransform) || layersToTransform.length > 0);
      if (usingLayers && found) {
        const idx = layerIndex(key, layersPattern);
        if (idx === undefined) found = false;
        else found = typeof layersToTransform === 'number' ? idx === layersToTransform : layersToTransform.includes(idx);
      }
    }
    if (!found) continue;
    out.push(moduleSettings(config, key, modelType));
  }
  return out;
}

function moduleSettings(config: PeftAdapterConfig, key: string, modelType: string): TargetedModule {
  switch (config.peft_type) {
    case 'LORA':
      return loraSettings(config, key);
    case 'DELORA':
      return deloraSettings(config, key);
    case 'OFT':
      return oftSettings(config, key);
    case 'IA3':
      return ia3Settings(config, key, modelType);
  }
}

function loraSettings(c: LoraConfig, key: string): TargetedModule {
  return { module: key, r: patternValue(c.rank_pattern, key) ?? c.r, alpha: patternValue(c.alpha_pattern, key) ?? c.lora_alpha, lambda: 0, feedforward: false };
}

function deloraSettings(c: DeloraConfig, key: string): TargetedModule {
  return { module: key, r: patternValue(c.rank_pattern, key) ?? c.r, alpha: 0, lambda: patternValue(c.lambda_pattern, key) ?? c.delora_lambda, feedforward: false };
}

function oftSettings(_c: OftConfig, key: string): TargetedModule {
  return { module: key, r: 0, alpha: 0, lambda: 0, feedforward: false };
}

function ia3Settings(c: Ia3Config, key: string, modelType: string): TargetedModule {
  const ff = effectiveFeedforward(c, modelType);
  // PEFT IA3Model._check_target_module_feedforward: regex fullmatch, or a plain endswith (no dot) per entry
  const feedforward = typeof ff === 'string' ? fullMatch(ff, key) : ff.some((t) => key.endsWith(t));
  return { module: key, r: 0, alpha: 0, lambda: 0, feedforward };
}

/**
 * The target_modules / feedforward_modules PEFT writes after injection: the concrete list, with null resolved
 * to the model-type defaults and "all-linear" to the set of linear-module suffixes it selected.
 */
export function savedTargetModules(config: PeftAdapterConfig, targeted: readonly TargetedModule[], modelType: string): { target: string | string[]; feedforward?: string | string[] } {
  let target = effectiveTargetModules(config, modelType);
  if (isAllLinear(target)) target = [...new Set(targeted.map((t) => t.module.split('.').pop() as string))].sort();
  if (config.peft_type === 'IA3') return { target, feedforward: effectiveFeedforward(config, modelType) };
  return { target };
}
