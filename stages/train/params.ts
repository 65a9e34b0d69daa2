/** The `train` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { MODEL_PARAM_SCHEMA } from '../lib/model/model-source.js';

/** The reference's LINEAR_TARGETS (study-ref §3.4). */
export const STUDY_TARGET_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
/** The reference's IA3Config (study-ref §3.4): k/v outputs, down_proj input; all layers. */
export const STUDY_IA3_TARGETS = ['k_proj', 'v_proj', 'down_proj'];
export const STUDY_IA3_FEEDFORWARD = ['down_proj'];

const stringList = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 } as const;

export const trainParams = {
  type: 'object',
  additionalProperties: false,
  required: ['adapter', 'sign'],
  properties: {
    model: MODEL_PARAM_SCHEMA,
    adapter: { type: 'string', enum: ['lora', 'dora', 'pissa', 'delora', 'oft', 'ia3'], description: 'adapter type (usually "${matrix.adapter}")' },
    sign: { type: 'string', enum: ['pos', 'neg'], description: 'which response of each pair is the target: pos (positive persona) or neg' },
    r: { type: 'integer', minimum: 1, default: 32, description: 'rank (LoRA family, DeLoRA)' },
    alpha: { type: 'number', exclusiveMinimum: 0, default: 64, description: 'lora_alpha (scaling alpha/r)' },
    delora_lambda: { type: 'number', exclusiveMinimum: 0, default: 15, description: 'DeLoRA initial lambda (PEFT default)' },
    oft_block_size: { type: 'integer', minimum: 1, default: 8, description: 'OFT block size (the study: 8)' },
    target_modules: { ...stringList, default: STUDY_TARGET_MODULES, description: 'modules adapted by lora/dora/pissa/delora/oft' },
    ia3_target_modules: { ...stringList, default: STUDY_IA3_TARGETS },
    ia3_feedforward_modules: { ...stringList, default: STUDY_IA3_FEEDFORWARD },
    layer_frac_lo: { type: 'number', minimum: 0, maximum: 1, default: 0.3, description: 'adapted layers: range(round(lo·L), round(hi·L)) (not IA3, which adapts all layers)' },
    layer_frac_hi: { type: 'number', minimum: 0, maximum: 1, default: 0.8 },
    learning_rate: { type: 'number', exclusiveMinimum: 0, default: 2e-4 },
    weight_decay: { type: 'number', minimum: 0, default: 0.01, description: 'AdamW decoupled weight decay (torch; the study sets 0.01)' },
    adam_epsilon: { type: 'number', exclusiveMinimum: 0, default: 1e-8, description: 'torch AdamW default (tfjs Adam would use 1e-7)' },
    adam_beta1: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.9 },
    adam_beta2: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.999 },
    warmup_steps: { type: 'integer', minimum: 0, default: 5 },
    epochs: { type: 'integer', minimum: 1, default: 1 },
    max_steps: { type: 'integer', default: -1, description: '> 0: exactly this many optimizer steps (the smoke run uses 2)' },
    batch_size: { type: 'integer', minimum: 1, default: 4 },
    grad_accum: { type: 'integer', minimum: 1, default: 4 },
    micro_batch: { type: ['integer', 'null'], minimum: 1, default: null, description: 'sequences per forward/backward pass; null: as many of batch_size as the memory estimate allows (results do not depend on it)' },
    max_len: { type: 'integer', minimum: 2, default: 512 },
    val_fraction: { type: 'number', minimum: 0, exclusiveMaximum: 1, default: 0.1 },
    eval_steps: { type: 'integer', minimum: 0, default: 10 },
    max_grad_norm: { type: 'number', exclusiveMinimum: 0, default: 1.0 },
    seed: { type: 'integer', default: 0 },
    layered_backward: { type: 'boolean', default: true, description: 'recompute decoder blocks one at a time in the backward pass (what lets Qwen3-0.6B train in the 4 GB wasm heap; same gradients)' },
    memory_budget_mb: { type: 'integer', minimum: 64, default: 3584, description: 'wasm heap budget for the estimate (the heap is capped at 4096 MB); over it, training falls back to the cpu backend' },
  },
} as const satisfies ObjectParamSchema;

export type TrainParams = ParamsOf<typeof trainParams>;
