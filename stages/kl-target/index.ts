/**
 * The `kl-target` stage kind (spec §10): measured once, shared by every calibrate stage. It draws the calibration
 * and audit prompt sets from the question pool, fixes the KL statistic (v1 teacher-forced over the last 20 suffix
 * tokens, canonical; v2/v3 trajectory KL), and sets the budget: v1 the p95 of the engineered honest prompt at
 * α = 1 on the calibration set (0.6147 nats for Qwen3-0.6B in the study); v2/v3 a constant (1.0 / 0.5). The
 * reference prompts are measured beside it (prompt_refs.csv).
 * Cheap to import: the implementation is behind load().
 */
import type { StageKind } from '../../src/contract/stage-kind.js';
import { DEFAULT_PROMPT_SET, KL_REFERENCE_PROMPTS, KL_TARGET_PROMPT, PROMPT_SETS } from '../lib/prompts.js';
import { QUESTIONS_PARAM, questionsExternalInput } from '../lib/questions-param.js';
import { checkPromptNames } from '../lib/steer/param-checks.js';

export const KL_TARGET_KIND_NAME = 'kl-target';
export const KL_TARGET_KIND_VERSION = '1.0.0';

/** Per version: [n_tokens, max_length, constant target (null = measured)] (§10.1–10.3). */
export const KL_VERSION_DEFAULTS = {
  v1: { nTokens: 20, maxLength: 256, target: null },
  v2: { nTokens: 20, maxLength: 512, target: 1.0 },
  v3: { nTokens: 50, maxLength: 512, target: 0.5 },
} as const;

export const klTargetKind: StageKind = {
  name: KL_TARGET_KIND_NAME,
  version: KL_TARGET_KIND_VERSION,
  description: 'The KL budget for calibration: prompt sets, statistic, and the target p95 (v1: the engineered honest prompt\'s)',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      questions: QUESTIONS_PARAM,
      version: { enum: ['v1', 'v2', 'v3'], default: 'v1', description: 'v1 (canonical): teacher-forced suffix KL, target from the engineered honest prompt, Newton search; v2: trajectory KL, target 1.0, Illinois; v3: as v2, target 0.5, 50 tokens, ±α separately' },
      target: { type: ['number', 'null'], exclusiveMinimum: 0, default: null, description: 'fixed budget in nats (null: v1 measures it, v2 1.0, v3 0.5)' },
      prompt_set: { enum: Object.keys(PROMPT_SETS), default: DEFAULT_PROMPT_SET },
      target_prompt: { type: 'string', minLength: 1, default: KL_TARGET_PROMPT, description: 'the prompt whose p95 at α = 1 is the v1 budget' },
      reference_prompts: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [...KL_REFERENCE_PROMPTS], description: 'prompts measured beside it (prompt_refs.csv)' },
      n_calib: { type: 'integer', minimum: 1, default: 50 },
      n_audit: { type: 'integer', minimum: 1, default: 100 },
      n_tokens: { type: ['integer', 'null'], minimum: 1, default: null, description: 'positions per prompt (null: 20 for v1/v2, 50 for v3)' },
      max_length: { type: ['integer', 'null'], minimum: 8, default: null, description: 'tokens per input, kept from the end (null: 256 for v1, 512 for v2/v3)' },
      seed: { type: 'integer', default: 0, description: 'prompt selection seed' },
      batch_size: { type: 'integer', minimum: 1, default: 8 },
    },
  },
  inputs: { model: { description: 'the base model (a model stage)' } },
  resources: 'accel',
  externalInputs(params, env) {
    for (const [names, key] of [[params['target_prompt'], 'target_prompt'], [params['reference_prompts'], 'reference_prompts']] as const) {
      const checked = checkPromptNames(params['prompt_set'], names, key);
      if (!checked.ok) return checked;
    }
    return questionsExternalInput(params, env.projectDir);
  },
  async load() {
    const { klTargetImplementation } = await import('./kl-target-stage.js');
    return klTargetImplementation;
  },
};
