/**
 * The `diff` stage kind (spec §4): τ± = merged − base for every tensor the pos/neg adapter touched (kept when
 * Σ|d| > 0), dW = τ+ − τ− over the keys both touched (or the bisector), saved as safetensors under the base
 * model's parameter names, with per-tensor norms and the §4.2 diagnostics as files and metrics.
 * Cheap to import: the implementation is behind load().
 */
import type { StageKind } from '../../src/contract/stage-kind.js';

export const DIFF_KIND_NAME = 'diff';
export const DIFF_KIND_VERSION = '1.0.0';

export const diffKind: StageKind = {
  name: DIFF_KIND_NAME,
  version: DIFF_KIND_VERSION,
  description: 'Weight diff dW = τ+ − τ− of a positive and a negative adapter (merged − base), with norms and diagnostics',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      merge_dtype: {
        enum: ['f32', 'bf16'],
        default: 'f32',
        description: 'f32: τ in float32 (default); bf16: round weights and differences to bf16 as the study merged (small updates can round away, hitting IA3/OFT hardest)',
      },
      mode: { enum: ['dw', 'bisector'], default: 'dw', description: 'dw: τ+ − τ− (paper eq. 1); bisector: τ+/‖τ+‖ − τ−/‖τ−‖ rescaled to ‖τ+ − τ−‖' },
      adapter: {
        type: ['string', 'null'],
        pattern: '^[A-Za-z0-9_.+-]+$',
        default: null,
        description: 'the adapter name in method labels (dW:<adapter>); default: the stage\'s matrix value "adapter" (with ".s<seed>" for a matrix seed other than 0), else the adapter type in adapter_config.json',
      },
      seed: { type: 'integer', default: 0, description: 'seed for adapters saved without their PiSSA conversion (pissa_niter_K init is random)' },
    },
  },
  inputs: {
    model: { description: 'the base model (a model stage)' },
    pos: { description: 'the adapter trained on the positive persona (a train stage: a PEFT adapter directory)' },
    neg: { description: 'the adapter trained on the negative persona' },
  },
  resources: 'accel',
  async load() {
    const { diffImplementation } = await import('./diff-stage.js');
    return diffImplementation;
  },
};
