/** The `dilemmas` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { DEFAULT_DILEMMA_DATASET } from '../lib/dilemmas-dataset.js';

export const dilemmasParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dataset: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: `{hf: ORG/NAME, config, split, revision} from the local Hugging Face cache (default ${DEFAULT_DILEMMA_DATASET.dataset} / ${DEFAULT_DILEMMA_DATASET.config} / ${DEFAULT_DILEMMA_DATASET.split}), or {path: FILE-OR-DIR} (parquet, JSONL, JSON or CSV), e.g. data/synthetic-dilemmas`,
      // null = absent, so that a profile can switch hf → path (profiles deep-merge maps)
      properties: {
        hf: { type: ['string', 'null'], minLength: 3 },
        path: { type: ['string', 'null'], minLength: 1 },
        config: { type: ['string', 'null'], minLength: 1 },
        split: { type: ['string', 'null'], minLength: 1 },
        revision: { type: ['string', 'null'], minLength: 1 },
      },
    },
    n_dilemmas: { type: ['integer', 'null'], minimum: 1, default: null, description: 'the first n dilemmas of the sorted unique dilemma_idx (null: all; the E2 tables use all 219)' },
    honesty_only: { type: 'boolean', default: false, description: "keep only rows whose own action carries an honesty tag (the later variant; the published tables don't)" },
  },
} as const satisfies ObjectParamSchema;

export type DilemmasParams = ParamsOf<typeof dilemmasParams>;
