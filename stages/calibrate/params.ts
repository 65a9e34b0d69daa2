/** The `calibrate` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';

export const calibrateParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    alpha_init: { type: 'number', exclusiveMinimum: 0, default: 1.0, description: 'v1: first α' },
    max_iters: { type: 'integer', minimum: 1, default: 4, description: 'v1: measurements at most' },
    band: { type: 'number', exclusiveMinimum: 0, default: 0.2, description: 'v1: converged when |p95/target − 1| < band' },
    lo: { type: 'number', exclusiveMinimum: 0, default: 0.05, description: 'v2/v3: bracket guard' },
    hi: { type: 'number', exclusiveMinimum: 0, default: 16, description: 'v2/v3: bracket guard' },
    tol: { type: 'number', exclusiveMinimum: 0, default: 0.05, description: 'v2/v3: |p95 − target| tolerance in nats' },
    max_root_iters: { type: 'integer', minimum: 0, default: 12, description: 'v2/v3: Illinois steps at most' },
    label: { type: ['string', 'null'], default: null, description: 'method name in the outputs (default dW:<adapter> or repe)' },
  },
} as const satisfies ObjectParamSchema;

export type CalibrateParams = ParamsOf<typeof calibrateParams>;
