/** The `report` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';

export const reportParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    behavior: {
      type: 'string',
      minLength: 1,
      description: 'behaviour the report is about, shown in its title (default: the matrix value "behavior", else "honesty")',
    },
    title: { type: 'string', minLength: 1, description: 'report title (default "Weight steering report — <behavior>")' },
    per_seed: {
      type: 'boolean',
      default: false,
      description: 'with several training seeds, add T1 with one row per (method, seed) next to the mean ± sd rows',
    },
  },
} as const satisfies ObjectParamSchema;

export type ReportParams = ParamsOf<typeof reportParams>;
