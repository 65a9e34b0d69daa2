/**
 * The `repe` stage kind (spec §7): per-layer RepE directions, PCA(1) of centred last-token hidden-state
 * differences between the positive and negative persona system prompts, fit on every layer; the layers they are
 * applied at are recorded with them (the study's 8..21 for 28 layers, i.e. `range(round(0.3·L), round(0.8·L))`
 * for L layers — the same slice the adapters train on, by depth).
 * Cheap to import: the implementation is behind load().
 */
import type { StageKind } from '../../src/contract/stage-kind.js';
import { QUESTIONS_PARAM, questionsExternalInput } from '../lib/questions-param.js';

export const REPE_KIND_NAME = 'repe';
export const REPE_KIND_VERSION = '1.0.0';

export const LAYER_PARAMS = {
  layer_frac_lo: { type: 'number', minimum: 0, maximum: 1, default: 0.3, description: 'applied layers: range(round(lo·L), round(hi·L)) (8..21 for 28 layers)' },
  layer_frac_hi: { type: 'number', minimum: 0, maximum: 1, default: 0.8 },
  layers: { type: ['array', 'null'], items: { type: 'integer', minimum: 0 }, minItems: 1, uniqueItems: true, default: null, description: 'explicit applied layers (overrides the fractions)' },
} as const;

export const repeKind: StageKind = {
  name: REPE_KIND_NAME,
  version: REPE_KIND_VERSION,
  description: 'RepE directions: PCA(1) of last-token persona hidden-state differences per layer, with the layers to apply them at',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      questions: QUESTIONS_PARAM,
      behavior: { enum: ['honesty', 'sycophancy'], default: 'honesty', description: 'honesty: pool entries with an assistant prefix; sycophancy: the claim prompts' },
      n_train_topics: { type: 'integer', minimum: 2, default: 20, description: 'fit on the first n pool entries (20 in the study; 50 in KL v3)' },
      max_length: { type: 'integer', minimum: 8, default: 256 },
      batch_size: { type: 'integer', minimum: 1, default: 8 },
      ...LAYER_PARAMS,
    },
  },
  inputs: { model: { description: 'the base model (a model stage)' } },
  resources: 'accel',
  externalInputs(params, env) {
    return questionsExternalInput(params, env.projectDir);
  },
  async load() {
    const { repeImplementation } = await import('./repe-stage.js');
    return repeImplementation;
  },
};
