/** The `data` kind's `with:` params: the schema, declared once, and the type the stage receives. Cheap to import. */
import type { ObjectParamSchema, ParamsOf } from '../../src/contract/stage-kind.js';
import { MODEL_PARAM_SCHEMA } from '../lib/model/model-source.js';

export const DEFAULT_POOL = 'data/questions.json';

export const dataParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: MODEL_PARAM_SCHEMA,
    pool: { type: 'string', minLength: 1, default: DEFAULT_POOL, description: 'question pool JSON ({cat, suffix, user_msg} entries), relative to the project' },
    behavior: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', default: 'honesty', description: 'the behaviour: its definition data/behaviors/<behavior>.yaml gives the personas and the questions' },
    personas: { type: ['string', 'null'], minLength: 1, default: null, description: 'a persona set of the definition (honesty: e2 = five paraphrase pairs, latest = honest/dishonest only; sycophancy: e1); null: its default_persona_set' },
    n_topics: { type: 'integer', minimum: 1, default: 20, description: 'first n questions: user_msgs of the pool in file order, or the definition\'s topics' },
    n_personas: { type: 'integer', minimum: 1, default: 5, description: 'persona pairs used (clamped to the set size)' },
    n_samples: { type: 'integer', minimum: 1, default: 10, description: 'samples per (topic, persona)' },
    max_new_tokens: { type: 'integer', minimum: 1, default: 96 },
    min_new_tokens: { type: 'integer', minimum: 0, default: 0 },
    temperature: { type: 'number', exclusiveMinimum: 0, default: 0.8 },
    top_p: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 1, default: null, description: 'null: the model\'s generation_config.json (Qwen3: 0.95), as transformers does' },
    top_k: { type: ['integer', 'null'], minimum: 0, default: null, description: 'null: generation_config.json (Qwen3: 20)' },
    min_p: { type: ['number', 'null'], minimum: 0, maximum: 1, default: null, description: 'null: generation_config.json (else 0)' },
    enable_thinking: { type: ['boolean', 'null'], default: null, description: 'Qwen3 chat-template switch; null leaves the template default (thinking on), as the study' },
    batch_size: { type: 'integer', minimum: 1, default: 8, description: 'prompts generated together (left-padded, KV cache)' },
    seed: { type: 'integer', default: 0 },
  },
} as const satisfies ObjectParamSchema;

export type DataParams = ParamsOf<typeof dataParams>;
