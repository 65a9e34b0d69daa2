/**
 * PEFT adapter configurations (adapter_config.json) for the four PEFT methods behind our six adapter types:
 * LORA (lora, dora = use_dora, pissa = init_lora_weights "pissa"), DELORA, OFT and IA3.
 *
 * Field names are PEFT's own (snake_case), so a config round-trips through adapter_config.json unchanged.
 * Parsing validates what changes the numbers and rejects features we do not implement with an error naming the
 * file and key; it never silently drops one.
 */
import { err, ok, type Result } from '../../contract/result.js';
import { pythonJson } from './py-json.js';

export type AdapterType = 'lora' | 'dora' | 'pissa' | 'delora' | 'oft' | 'ia3';
export const ADAPTER_TYPES: readonly AdapterType[] = ['lora', 'dora', 'pissa', 'delora', 'oft', 'ia3'];

export type PeftType = 'LORA' | 'DELORA' | 'OFT' | 'IA3';

/** A parsed config and what PEFT would have warned about while reading it. */
export interface ParsedConfig<T> {
  config: T;
  warnings: string[];
}

/** What parsing returns: the config, or a message naming the file and key. */
export type ConfigResult<T> = Result<ParsedConfig<T>, string>;

/** target_modules / exclude_modules: a regex matched against the full module name, or a list of name suffixes. */
export type ModuleSelector = string | string[] | null;

interface PeftCommonConfig {
  base_model_name_or_path: string | null;
  revision: string | null;
  task_type: string | null;
  inference_mode: boolean;
  target_modules: ModuleSelector;
  exclude_modules: ModuleSelector;
  peft_version?: string;
}

interface LayerSelection {
  layers_to_transform: number | number[] | null;
  layers_pattern: string | string[] | null;
}

export interface LoraConfig extends PeftCommonConfig, LayerSelection {
  peft_type: 'LORA';
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  fan_in_fan_out: boolean;
  bias: string;
  use_rslora: boolean;
  use_dora: boolean;
  /** true (kaiming A, zero B), false (nn.Linear default init), "gaussian", "pissa" or "pissa_niter_K" */
  init_lora_weights: boolean | string;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
}

export interface DeloraConfig extends PeftCommonConfig, LayerSelection {
  peft_type: 'DELORA';
  r: number;
  delora_lambda: number;
  module_dropout: number;
  init_weights: boolean;
  bias: string;
  rank_pattern: Record<string, number>;
  lambda_pattern: Record<string, number>;
}

export interface OftConfig extends PeftCommonConfig, LayerSelection {
  peft_type: 'OFT';
  r: number;
  oft_block_size: number;
  module_dropout: number;
  init_weights: boolean;
  coft: boolean;
  eps: number;
  block_share: boolean;
  use_cayley_neumann: boolean;
  num_cayley_neumann_terms: number;
  fan_in_fan_out: boolean;
  bias: string;
}

export interface Ia3Config extends PeftCommonConfig {
  peft_type: 'IA3';
  feedforward_modules: ModuleSelector;
  fan_in_fan_out: boolean;
  init_ia3_weights: boolean;
}

export type PeftAdapterConfig = LoraConfig | DeloraConfig | OftConfig | Ia3Config;

/** Our adapter type for a PEFT config. A PiSSA adapter saved converted to plain LoRA reads as "lora". */
export function adapterTypeOf(config: PeftAdapterConfig): AdapterType {
  switch (config.peft_type) {
    case 'LORA':
      if (config.use_dora) return 'dora';
      if (typeof config.init_lora_weights === 'string' && config.init_lora_weights.startsWith('pissa')) return 'pissa';
      return 'lora';
    case 'DELORA':
      return 'delora';
    case 'OFT':
      return 'oft';
    case 'IA3':
      return 'ia3';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Defaults: every field PEFT 0.20 writes for each config class (compared with the fixture adapter_config.json
// files, which PEFT 0.20 wrote). Fields we do not implement keep their PEFT default so PEFT reads them as unset.

const COMMON_DEFAULTS = {
  auto_mapping: null,
  base_model_name_or_path: null,
  exclude_modules: null,
  inference_mode: true,
  modules_to_save: null,
  peft_version: '0.20.0',
  revision: null,
  target_modules: null,
  task_type: 'CAUSAL_LM',
} as const;

const LORA_DEFAULTS: Record<string, unknown> = {
  ...COMMON_DEFAULTS,
  alora_invocation_tokens: null,
  alpha_pattern: {},
  arrow_config: null,
  bias: 'none',
  corda_config: null,
  ensure_weight_tying: false,
  eva_config: null,
  fan_in_fan_out: false,
  init_lora_weights: true,
  layer_replication: null,
  layers_pattern: null,
  layers_to_transform: null,
  loftq_config: {},
  lora_alpha: 8,
  lora_bias: false,
  lora_dropout: 0.0,
  lora_ga_config: null,
  megatron_config: null,
  megatron_core: 'megatron.core',
  monteclora_config: null,
  peft_type: 'LORA',
  qalora_group_size: 16,
  r: 8,
  rank_pattern: {},
  target_parameters: null,
  trainable_token_indices: null,
  use_bdlora: null,
  use_dora: false,
  use_qalora: false,
  use_rslora: false,
  velora_config: null,
};

const DELORA_DEFAULTS: Record<string, unknown> = {
  ...COMMON_DEFAULTS,
  bias: 'none',
  delora_lambda: 15,
  init_weights: true,
  lambda_pattern: {},
  layers_pattern: null,
  layers_to_transform: null,
  module_dropout: 0.0,
  peft_type: 'DELORA',
  r: 8,
  rank_pattern: {},
};

const OFT_DEFAULTS: Record<string, unknown> = {
  ...COMMON_DEFAULTS,
  bias: 'none',
  block_share: false,
  coft: false,
  eps: 6e-5,
  fan_in_fan_out: false,
  init_weights: true,
  layers_pattern: null,
  layers_to_transform: null,
  module_dropout: 0.0,
  num_cayley_neumann_terms: 5,
  oft_block_size: 32,
  peft_type: 'OFT',
  r: 0,
  use_cayley_neumann: true,
};

const IA3_DEFAULTS: Record<string, unknown> = {
  ...COMMON_DEFAULTS,
  fan_in_fan_out: false,
  feedforward_modules: null,
  init_ia3_weights: true,
  peft_type: 'IA3',
};

const DEFAULTS: Record<PeftType, Record<string, unknown>> = {
  LORA: LORA_DEFAULTS,
  DELORA: DELORA_DEFAULTS,
  OFT: OFT_DEFAULTS,
  IA3: IA3_DEFAULTS,
};

/**
 * adapter_config.json text as PEFT's save_pretrained writes it: every field of the config class, sorted keys,
 * indent 2, no trailing newline. Selector lists are written in the order given.
 */
export function peftConfigJson(config: PeftAdapterConfig): string {
  const full: Record<string, unknown> = { ...DEFAULTS[config.peft_type], ...config };
  if (full['peft_version'] === undefined) full['peft_version'] = COMMON_DEFAULTS.peft_version;
  return pythonJson(full, FLOAT_FIELDS);
}

/** Config fields PEFT declares as float (written 0.0, 6e-05 …). */
const FLOAT_FIELDS: ReadonlySet<string> = new Set(['lora_dropout', 'module_dropout', 'eps']);

// ---------------------------------------------------------------------------------------------------------
// Parsing

class ConfigError extends Error {}

function fail(file: string, key: string, message: string): never {
  throw new ConfigError(`${file}: "${key}" ${message}`);
}

type Json = Record<string, unknown>;

function get(raw: Json, key: string, defaults: Record<string, unknown>): unknown {
  return Object.prototype.hasOwnProperty.call(raw, key) ? raw[key] : defaults[key];
}

function num(raw: Json, key: string, defaults: Json, file: string, opts: { integer?: boolean; min?: number; exclusiveMin?: number } = {}): number {
  const v = get(raw, key, defaults);
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, key, `must be a number, got ${JSON.stringify(v)}`);
  if (opts.integer === true && !Number.isInteger(v)) fail(file, key, `must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) fail(file, key, `must be >= ${opts.min}, got ${v}`);
  if (opts.exclusiveMin !== undefined && v <= opts.exclusiveMin) fail(file, key, `must be > ${opts.exclusiveMin}, got ${v}`);
  return v;
}

function bool(raw: Json, key: string, defaults: Json, file: string): boolean {
  const v = get(raw, key, defaults);
  if (typeof v !== 'boolean') fail(file, key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function strOrNull(raw: Json, key: string, defaults: Json, file: string): string | null {
  const v = get(raw, key, defaults);
  if (v !== null && typeof v !== 'string') fail(file, key, `must be a string or null, got ${JSON.stringify(v)}`);
  return v;
}

function selector(raw: Json, key: string, defaults: Json, file: string): ModuleSelector {
  const v = get(raw, key, defaults);
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') {
    try {
      new RegExp(v);
    } catch (e) {
      fail(file, key, `is not a valid regular expression: ${(e as Error).message}`);
    }
    return v;
  }
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return [...(v as string[])];
  fail(file, key, `must be a regex string, a list of module names, or null; got ${JSON.stringify(v)}`);
}

function pattern(raw: Json, key: string, defaults: Json, file: string): Record<string, number> {
  const v = get(raw, key, defaults) ?? {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(file, key, `must be an object of pattern -> number, got ${JSON.stringify(v)}`);
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v as Json)) {
    if (typeof x !== 'number' || !Number.isFinite(x)) fail(file, `${key}.${k}`, `must be a number, got ${JSON.stringify(x)}`);
    try {
      new RegExp(k);
    } catch (e) {
      fail(file, `${key}.${k}`, `is not a valid regular expression: ${(e as Error).message}`);
    }
    out[k] = x;
  }
  return out;
}

function layerSelection(raw: Json, defaults: Json, file: string, target: ModuleSelector): LayerSelection {
  const lt = get(raw, 'layers_to_transform', defaults);
  let layers: number | number[] | null;
  if (lt === null || lt === undefined) layers = null;
  else if (typeof lt === 'number' && Number.isInteger(lt) && lt >= 0) layers = lt;
  else if (Array.isArray(lt) && lt.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) layers = [...(lt as number[])];
  else fail(file, 'layers_to_transform', `must be a layer index, a list of layer indices, or null; got ${JSON.stringify(lt)}`);
  const lp = get(raw, 'layers_pattern', defaults);
  let pat: string | string[] | null;
  if (lp === null || lp === undefined) pat = null;
  else if (typeof lp === 'string') pat = lp;
  else if (Array.isArray(lp) && lp.every((x) => typeof x === 'string')) pat = [...(lp as string[])];
  else fail(file, 'layers_pattern', `must be a string, a list of strings, or null; got ${JSON.stringify(lp)}`);
  // PEFT's config __post_init__ rejects these combinations.
  if (typeof target === 'string' && layers !== null) fail(file, 'layers_to_transform', 'cannot be used when target_modules is a regex string (PEFT rejects this too)');
  if (pat !== null && (Array.isArray(pat) ? pat.length > 0 : pat !== '') && layers === null) {
    fail(file, 'layers_pattern', 'requires layers_to_transform (PEFT rejects layers_pattern on its own)');
  }
  return { layers_to_transform: layers, layers_pattern: pat };
}

function common(raw: Json, defaults: Json, file: string): PeftCommonConfig {
  const target = selector(raw, 'target_modules', defaults, file);
  const out: PeftCommonConfig = {
    base_model_name_or_path: strOrNull(raw, 'base_model_name_or_path', defaults, file),
    revision: strOrNull(raw, 'revision', defaults, file),
    task_type: strOrNull(raw, 'task_type', defaults, file),
    inference_mode: typeof raw['inference_mode'] === 'boolean' ? raw['inference_mode'] : true,
    target_modules: target,
    exclude_modules: selector(raw, 'exclude_modules', defaults, file),
  };
  if (typeof raw['peft_version'] === 'string') out.peft_version = raw['peft_version'];
  const mts = raw['modules_to_save'];
  if (mts !== null && mts !== undefined && !(Array.isArray(mts) && mts.length === 0)) {
    fail(file, 'modules_to_save', `is ${JSON.stringify(mts)}: fully trained extra modules are not supported (only adapter layers on linear modules)`);
  }
  if (out.task_type !== null && out.task_type !== 'CAUSAL_LM') {
    fail(file, 'task_type', `is "${out.task_type}": only CAUSAL_LM adapters apply to a Qwen3 causal LM`);
  }
  return out;
}

/** Fields that must stay at their "off" value because they change the forward pass in ways we do not implement. */
function rejectUnsupported(raw: Json, file: string, offValues: Record<string, (v: unknown) => boolean>): void {
  for (const [key, isOff] of Object.entries(offValues)) {
    if (Object.prototype.hasOwnProperty.call(raw, key) && !isOff(raw[key])) {
      fail(file, key, `is ${JSON.stringify(raw[key])}: this PEFT feature is not supported by wsflow`);
    }
  }
}

const isNullish = (v: unknown): boolean => v === null || v === undefined;
const isFalse = (v: unknown): boolean => v === false || v === null || v === undefined;
const isEmptyObj = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'object' && Object.keys(v as object).length === 0);

function bias(raw: Json, defaults: Json, file: string): string {
  const v = get(raw, 'bias', defaults);
  if (v !== 'none' && v !== 'all' && v !== 'lora_only') fail(file, 'bias', `must be "none", "all" or "lora_only", got ${JSON.stringify(v)}`);
  return v;
}

function parseLora(raw: Json, file: string, warnings: string[]): LoraConfig {
  const d = LORA_DEFAULTS;
  rejectUnsupported(raw, file, {
    lora_bias: isFalse,
    use_qalora: isFalse,
    use_bdlora: isFalse,
    alora_invocation_tokens: isNullish,
    layer_replication: isNullish,
    trainable_token_indices: isNullish,
    target_parameters: isNullish,
    arrow_config: isNullish,
    monteclora_config: isNullish,
    velora_config: isNullish,
    lora_ga_config: isNullish,
    eva_config: isNullish,
    corda_config: isNullish,
    loftq_config: isEmptyObj,
  });
  const base = common(raw, d, file);
  const init = get(raw, 'init_lora_weights', d);
  if (typeof init !== 'boolean') {
    if (typeof init !== 'string') fail(file, 'init_lora_weights', `must be true, false or a string, got ${JSON.stringify(init)}`);
    if (init !== 'gaussian' && init !== 'pissa' && !/^pissa_niter_\d+$/.test(init)) {
      fail(file, 'init_lora_weights', `is "${init}": supported are true, false, "gaussian", "pissa" and "pissa_niter_K"`);
    }
  }
  let fanInFanOut = bool(raw, 'fan_in_fan_out', d, file);
  if (fanInFanOut) {
    // PEFT does the same for nn.Linear targets (its Qwen3 projections are nn.Linear).
    warnings.push(`${file}: fan_in_fan_out is true but the targets are nn.Linear layers; treating it as false, as PEFT does`);
    fanInFanOut = false;
  }
  const cfg: LoraConfig = {
    ...base,
    ...layerSelection(raw, d, file, base.target_modules),
    peft_type: 'LORA',
    r: num(raw, 'r', d, file, { integer: true, exclusiveMin: 0 }),
    lora_alpha: num(raw, 'lora_alpha', d, file),
    lora_dropout: num(raw, 'lora_dropout', d, file, { min: 0 }),
    fan_in_fan_out: fanInFanOut,
    bias: bias(raw, d, file),
    use_rslora: bool(raw, 'use_rslora', d, file),
    use_dora: bool(raw, 'use_dora', d, file),
    init_lora_weights: init as boolean | string,
    rank_pattern: pattern(raw, 'rank_pattern', d, file),
    alpha_pattern: pattern(raw, 'alpha_pattern', d, file),
  };
  if (cfg.lora_dropout >= 1) fail(file, 'lora_dropout', `must be < 1, got ${cfg.lora_dropout}`);
  if (cfg.use_dora && typeof cfg.init_lora_weights === 'string' && cfg.init_lora_weights.startsWith('pissa')) {
    fail(file, 'use_dora', 'together with a PiSSA init_lora_weights is not supported');
  }
  for (const [k, r] of Object.entries(cfg.rank_pattern)) {
    if (!Number.isInteger(r) || r <= 0) fail(file, `rank_pattern.${k}`, `must be a positive integer, got ${r}`);
  }
  return cfg;
}

function parseDelora(raw: Json, file: string): DeloraConfig {
  const d = DELORA_DEFAULTS;
  const base = common(raw, d, file);
  const cfg: DeloraConfig = {
    ...base,
    ...layerSelection(raw, d, file, base.target_modules),
    peft_type: 'DELORA',
    r: num(raw, 'r', d, file, { integer: true, exclusiveMin: 0 }),
    delora_lambda: num(raw, 'delora_lambda', d, file),
    module_dropout: num(raw, 'module_dropout', d, file, { min: 0 }),
    init_weights: bool(raw, 'init_weights', d, file),
    bias: bias(raw, d, file),
    rank_pattern: pattern(raw, 'rank_pattern', d, file),
    lambda_pattern: pattern(raw, 'lambda_pattern', d, file),
  };
  if (cfg.module_dropout >= 1) fail(file, 'module_dropout', `must be < 1, got ${cfg.module_dropout}`);
  for (const [k, r] of Object.entries(cfg.rank_pattern)) {
    if (!Number.isInteger(r) || r <= 0) fail(file, `rank_pattern.${k}`, `must be a positive integer, got ${r}`);
  }
  return cfg;
}

function parseOft(raw: Json, file: string, warnings: string[]): OftConfig {
  const d = OFT_DEFAULTS;
  // PEFT (OFTModel) rejects configs written before oft_block_size existed (PEFT < 0.14): their layout differs.
  if (!Object.prototype.hasOwnProperty.call(raw, 'oft_block_size')) {
    fail(file, 'oft_block_size', 'is missing: this OFT adapter predates PEFT 0.14 and uses an incompatible layout (PEFT rejects it too)');
  }
  const base = common(raw, d, file);
  let fanInFanOut = bool(raw, 'fan_in_fan_out', d, file);
  if (fanInFanOut) {
    warnings.push(`${file}: fan_in_fan_out is true but the targets are nn.Linear layers; treating it as false, as PEFT does`);
    fanInFanOut = false;
  }
  const cfg: OftConfig = {
    ...base,
    ...layerSelection(raw, d, file, base.target_modules),
    peft_type: 'OFT',
    r: num(raw, 'r', d, file, { integer: true, min: 0 }),
    oft_block_size: num(raw, 'oft_block_size', d, file, { integer: true, min: 0 }),
    module_dropout: num(raw, 'module_dropout', d, file, { min: 0 }),
    init_weights: bool(raw, 'init_weights', d, file),
    coft: bool(raw, 'coft', d, file),
    eps: num(raw, 'eps', d, file, { min: 0 }),
    block_share: bool(raw, 'block_share', d, file),
    use_cayley_neumann: bool(raw, 'use_cayley_neumann', d, file),
    num_cayley_neumann_terms: num(raw, 'num_cayley_neumann_terms', d, file, { integer: true, min: 1 }),
    fan_in_fan_out: fanInFanOut,
    bias: bias(raw, d, file),
  };
  if ((cfg.r === 0) === (cfg.oft_block_size === 0)) {
    fail(file, 'r', `and "oft_block_size" are ${cfg.r} and ${cfg.oft_block_size}: exactly one of them must be non-zero (PEFT's rule)`);
  }
  if (cfg.use_cayley_neumann && cfg.peft_version !== undefined && versionLess(cfg.peft_version, '0.18.0')) {
    warnings.push(`${file}: OFT adapter saved with PEFT ${cfg.peft_version} < 0.18.0 uses Cayley-Neumann, whose parameterisation changed in PEFT 0.18.0; results follow the current formula, as PEFT does`);
  }
  return cfg;
}

function parseIa3(raw: Json, file: string, warnings: string[]): Ia3Config {
  const d = IA3_DEFAULTS;
  const base = common(raw, d, file);
  let fanInFanOut = bool(raw, 'fan_in_fan_out', d, file);
  if (fanInFanOut) {
    warnings.push(`${file}: fan_in_fan_out is true but the targets are nn.Linear layers; treating it as false, as PEFT does`);
    fanInFanOut = false;
  }
  if (Object.prototype.hasOwnProperty.call(raw, 'layers_to_transform') && raw['layers_to_transform'] !== null) {
    fail(file, 'layers_to_transform', 'is not a field of IA3Config: PEFT IA3 adapts every matching layer');
  }
  const cfg: Ia3Config = {
    ...base,
    peft_type: 'IA3',
    feedforward_modules: selector(raw, 'feedforward_modules', d, file),
    fan_in_fan_out: fanInFanOut,
    init_ia3_weights: bool(raw, 'init_ia3_weights', d, file),
  };
  // IA3Config.__post_init__: feedforward_modules must be a subset of target_modules (when both are lists)
  if (Array.isArray(cfg.target_modules) && Array.isArray(cfg.feedforward_modules)) {
    const targets = new Set(cfg.target_modules);
    const extra = cfg.feedforward_modules.filter((m) => !targets.has(m));
    if (extra.length > 0) fail(file, 'feedforward_modules', `must be a subset of target_modules; not targeted: ${extra.join(', ')}`);
  }
  return cfg;
}

function versionLess(a: string, b: string): boolean {
  const pa = a.split(/[.+-]/).map((x) => parseInt(x, 10));
  const pb = b.split(/[.+-]/).map((x) => parseInt(x, 10));
  for (let i = 0; i < 3; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (Number.isNaN(x) || Number.isNaN(y)) return false;
    if (x !== y) return x < y;
  }
  return false;
}

/** Parse adapter_config.json content (already JSON-decoded). `file` names the source in errors. */
export function parseAdapterConfig(raw: unknown, file: string): ConfigResult<PeftAdapterConfig> {
  try {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: must hold a JSON object`);
    const obj = raw as Json;
    const t = obj['peft_type'];
    const warnings: string[] = [];
    let value: PeftAdapterConfig;
    switch (t) {
      case 'LORA':
        value = parseLora(obj, file, warnings);
        break;
      case 'DELORA':
        value = parseDelora(obj, file);
        break;
      case 'OFT':
        value = parseOft(obj, file, warnings);
        break;
      case 'IA3':
        value = parseIa3(obj, file, warnings);
        break;
      default:
        throw new ConfigError(`${file}: "peft_type" is ${JSON.stringify(t)}; supported: LORA, DELORA, OFT, IA3`);
    }
    return ok({ config: value, warnings });
  } catch (e) {
    if (e instanceof ConfigError) return err(e.message);
    throw e;
  }
}

/** Options for a new adapter; omitted fields take PEFT's defaults for the method. */
export interface NewAdapterOptions {
  r?: number;
  alpha?: number;
  /** DeLoRA's initial lambda (PEFT default 15) */
  deloraLambda?: number;
  /** OFT block size (PEFT default 32; the study uses 8) */
  oftBlockSize?: number;
  targetModules?: ModuleSelector;
  feedforwardModules?: ModuleSelector;
  layersToTransform?: number[] | null;
  useRslora?: boolean;
  baseModelNameOrPath?: string | null;
}

/** A PEFT config for one of our six adapter types (what `train` builds from its parameters). */
export function newAdapterConfig(type: AdapterType, opts: NewAdapterOptions = {}): PeftAdapterConfig {
  const common: PeftCommonConfig = {
    base_model_name_or_path: opts.baseModelNameOrPath ?? null,
    revision: null,
    task_type: 'CAUSAL_LM',
    inference_mode: true,
    target_modules: opts.targetModules ?? null,
    exclude_modules: null,
  };
  const layers: LayerSelection = { layers_to_transform: opts.layersToTransform ?? null, layers_pattern: null };
  switch (type) {
    case 'lora':
    case 'dora':
    case 'pissa':
      return {
        ...common,
        ...layers,
        peft_type: 'LORA',
        r: opts.r ?? 8,
        lora_alpha: opts.alpha ?? 8,
        lora_dropout: 0,
        fan_in_fan_out: false,
        bias: 'none',
        use_rslora: opts.useRslora ?? false,
        use_dora: type === 'dora',
        init_lora_weights: type === 'pissa' ? 'pissa' : true,
        rank_pattern: {},
        alpha_pattern: {},
      };
    case 'delora':
      return {
        ...common,
        ...layers,
        peft_type: 'DELORA',
        r: opts.r ?? 8,
        delora_lambda: opts.deloraLambda ?? 15,
        module_dropout: 0,
        init_weights: true,
        bias: 'none',
        rank_pattern: {},
        lambda_pattern: {},
      };
    case 'oft':
      return {
        ...common,
        ...layers,
        peft_type: 'OFT',
        r: 0,
        oft_block_size: opts.oftBlockSize ?? 32,
        module_dropout: 0,
        init_weights: true,
        coft: false,
        eps: 6e-5,
        block_share: false,
        use_cayley_neumann: true,
        num_cayley_neumann_terms: 5,
        fan_in_fan_out: false,
        bias: 'none',
      };
    case 'ia3':
      if (opts.layersToTransform !== undefined && opts.layersToTransform !== null) {
        throw new Error('ia3: PEFT IA3 has no layers_to_transform; it adapts every matching layer');
      }
      return {
        ...common,
        peft_type: 'IA3',
        feedforward_modules: opts.feedforwardModules ?? null,
        fan_in_fan_out: false,
        init_ia3_weights: true,
      };
  }
}
