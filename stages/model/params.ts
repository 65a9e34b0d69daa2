/** The `model` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ParamError } from '../../src/contract/params.js';
import { err, ok, type Result } from '../../src/contract/result.js';
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';

export const modelParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: {
      type: ['string', 'null'],
      minLength: 1,
      default: null,
      description: 'Hub id ORG/NAME[@REVISION] looked up in the local Hugging Face cache, or a model directory (relative to the project)',
    },
    tiny: {
      type: ['object', 'null'],
      default: null,
      description: 'generate a deterministic tiny random Qwen3 with the real tokenizer (for tests and smoke runs)',
      additionalProperties: false,
      properties: {
        seed: { type: 'integer', default: 0 },
        layers: { type: 'integer', minimum: 1, default: 4, description: 'decoder layers' },
        hidden_size: { type: 'integer', minimum: 2, default: 64 },
        intermediate_size: { type: 'integer', minimum: 1, default: 128 },
        heads: { type: 'integer', minimum: 1, default: 4 },
        kv_heads: { type: 'integer', minimum: 1, default: 2 },
        head_dim: { type: 'integer', minimum: 2, multipleOf: 2, default: 16 },
        dtype: { enum: ['F32', 'BF16'], default: 'F32' },
        planted: { type: 'boolean', default: false, description: 'plant an honesty behaviour (src/core/planted-honesty.ts) so that the smoke study measures known signs' },
      },
    },
  },
} as const satisfies ObjectParamSchema;

export type ModelParamValues = ParamsOf<typeof modelParams>;

export type TinyParams = NonNullable<ModelParamValues['tiny']>;

/** Where the model comes from: exactly one of `id` and `tiny`. */
export type ModelSource = { id: string; tiny?: undefined } | { id?: undefined; tiny: TinyParams };

export function checkModelParams(params: Readonly<ModelParamValues>): Result<ModelSource, ParamError> {
  const { id, tiny } = params;
  if (id !== null && tiny !== null) {
    return err({ param: 'tiny', message: 'model: give either `id` (a Hub id or a model directory) or `tiny` (generate a tiny random Qwen3), not both; a profile that switches to the tiny model sets `id: null`' });
  }
  if (id !== null) return ok({ id });
  if (tiny !== null) return ok({ tiny });
  return err({ param: 'id', message: 'model: give `id` (a Hub id such as Qwen/Qwen3-0.6B, or a model directory) or `tiny: {seed: 0}`' });
}
