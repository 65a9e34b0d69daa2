/** The `repe` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { QUESTIONS_PARAM } from '../lib/questions-param.js';

export const LAYER_PARAMS = {
  layer_frac_lo: { type: 'number', minimum: 0, maximum: 1, default: 0.3, description: 'applied layers: range(round(lo·L), round(hi·L)) (8..21 for 28 layers)' },
  layer_frac_hi: { type: 'number', minimum: 0, maximum: 1, default: 0.8 },
  layers: { type: ['array', 'null'], items: { type: 'integer', minimum: 0 }, minItems: 1, uniqueItems: true, default: null, description: 'explicit applied layers (overrides the fractions)' },
} as const;

export const repeParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    questions: QUESTIONS_PARAM,
    behavior: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', default: 'honesty', description: 'the behaviour (data/behaviors/<behavior>.yaml): persona pair 0 of its default set, fit on pool entries with an assistant prefix (honesty) or on its topic prompts (sycophancy)' },
    n_train_topics: { type: 'integer', minimum: 2, default: 20, description: 'fit on the first n pool entries (20 in the study; 50 in KL v3)' },
    max_length: { type: 'integer', minimum: 8, default: 256 },
    batch_size: { type: 'integer', minimum: 1, default: 8 },
    ...LAYER_PARAMS,
  },
} as const satisfies ObjectParamSchema;

export type RepeParams = ParamsOf<typeof repeParams>;
