/** The `diff` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';

export const diffParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    merge_dtype: {
      enum: ['f32', 'bf16'],
      default: 'bf16',
      description: 'the study\'s precision. bf16 (default, the reference\'s): weights, τ and dW rounded to bf16 as the study merged, and every stage that steers with this dW holds θ + α·dW in bf16 (small updates round away, hitting IA3/OFT hardest); f32: float32 throughout',
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
} as const satisfies ObjectParamSchema;

export type DiffParams = ParamsOf<typeof diffParams>;
