/** The `eval-iid` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { CHOICE_RULES, DEFAULT_CHOICE_RULE } from '../lib/choice-ids.js';
import { N_HELD_OUT_CLAIMS } from '../lib/prompts.js';

export const evalIidParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    coeffs: { type: 'array', items: { type: 'number' }, minItems: 1, uniqueItems: true, default: [-2, -1, 0, 1, 2], description: 'steering coefficients (include 0: the shift is measured against it)' },
    behavior: { type: ['string', 'null'], minLength: 1, default: null, description: "the claims, prompt and anchor of data/behaviors/<behavior>.yaml's `iid`; null: study-ref §11's 12 held-out claims" },
    n_held_out: { type: 'integer', minimum: 1, default: N_HELD_OUT_CLAIMS, description: 'the first n claims (at most as many as there are)' },
    batch_size: { type: 'integer', minimum: 1, default: 8 },
    max_length: { type: 'integer', minimum: 8, default: 512 },
    choice_rule: { enum: [...CHOICE_RULES], default: DEFAULT_CHOICE_RULE },
    label: { type: ['string', 'null'], default: null, description: 'method name in the outputs (default dW:<adapter> or repe)' },
  },
} as const satisfies ObjectParamSchema;

export type EvalIidParams = ParamsOf<typeof evalIidParams>;
