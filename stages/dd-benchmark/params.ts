/** The `dd-benchmark` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { DILEMMA_PARAM_PROPERTIES } from '../lib/steer/dilemma-params.js';

export const ddBenchmarkParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...DILEMMA_PARAM_PROPERTIES,
    coeffs: {
      type: 'array',
      items: { type: 'number' },
      minItems: 1,
      uniqueItems: true,
      default: [-2, -1, 0, 1, 2],
      description: 'steering coefficients α of every dW (include 0: the reference of SI and delta_vs_0)',
    },
  },
} as const satisfies ObjectParamSchema;

export type DdBenchmarkParams = ParamsOf<typeof ddBenchmarkParams>;
