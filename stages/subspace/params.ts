/** The `subspace` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';

export const subspaceParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    k_frac: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.1, description: 'top block of W\'s spectrum: k = max(1, round(k_frac·r)) (study-ref §6)' },
    weak_frac: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.01, description: 'weak readout: the bottom max(1, round(weak_frac·r)) right singular vectors of the unembedding' },
  },
} as const satisfies ObjectParamSchema;

export type SubspaceParams = ParamsOf<typeof subspaceParams>;
