/**
 * The `eval-dilemmas` stage kind (spec §9, §10.4): daily-dilemmas rows scored under one steering method — a dW
 * (`dw` input), RepE directions (`repe` input) — at each coeff, or at −α*, 0, +α* when a `calibration` input is
 * given; with neither input, the prompt baselines (§8): `prompt:base` at coeff 0 and each other prompt once, with
 * its system prompt, labelled coeff 1.
 *
 * The prompt template (`format`, `instruction`) and the `anchor` are params of this kind (and ablate-delora)
 * only, so editing them reruns the evaluation stages and what depends on them, nothing upstream.
 * Cheap to import: the implementation is behind load().
 */
import type { StageKind } from '../../src/contract/stage-kind.js';
import { DEFAULT_PROMPT_SET, PROMPT_SETS } from '../lib/prompts.js';
import { checkCoeffsIncludeZero, checkPromptNames } from '../lib/steer/param-checks.js';
import { DILEMMA_PARAM_PROPERTIES } from '../lib/steer/dilemma-params.js';

export const EVAL_DILEMMAS_KIND_NAME = 'eval-dilemmas';
export const EVAL_DILEMMAS_KIND_VERSION = '1.0.0';

export const DEFAULT_PROMPTS = ['base', 'simple_honest_prompt', 'simple_dishonest_prompt', 'engineered_prompt_honest', 'engineered_prompt_dishonest'] as const;

export const evalDilemmasKind: StageKind = {
  name: EVAL_DILEMMAS_KIND_NAME,
  version: EVAL_DILEMMAS_KIND_VERSION,
  description: 'Daily-dilemmas Yes/No scores (logratio, pmass) and surgical informedness for a dW, RepE, or the prompt baselines',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...DILEMMA_PARAM_PROPERTIES,
      coeffs: {
        type: 'array',
        items: { type: 'number' },
        minItems: 1,
        uniqueItems: true,
        default: [-1, 0, 1],
        description: 'steering coefficients α (include 0: the reference of SI); ignored with a calibration input (−α*, 0, +α*) and for prompts',
      },
      prompt_set: { enum: Object.keys(PROMPT_SETS), default: DEFAULT_PROMPT_SET, description: 'prompt texts: p-v3 (canonical, AxBench J.2), p-v2 (E2 handover), p-v1 (E1)' },
      prompts: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        minItems: 1,
        uniqueItems: true,
        default: [...DEFAULT_PROMPTS],
        description: 'prompt baselines evaluated when there is no dw/repe input ("base" = empty system prompt, coeff 0; the others coeff 1)',
      },
      label: { type: ['string', 'null'], default: null, description: 'method name in the outputs (default dW:<adapter> or repe)' },
    },
  },
  inputs: {
    model: { description: 'the base model (a model stage)' },
    dilemmas: { description: 'the evaluation rows (a dilemmas stage)' },
    dw: { description: 'a diff stage: steer with θ + α·dW', optional: true },
    repe: { description: 'a repe stage: add α·direction after each layer of its range', optional: true },
    calibration: { description: 'a calibrate stage of the same method: evaluate at −α*, 0, +α*', optional: true },
  },
  resources: 'accel',
  externalInputs(params) {
    const coeffs = checkCoeffsIncludeZero(params['coeffs'], 'α = 0 is the reference of SI and of every delta');
    return coeffs.ok ? checkPromptNames(params['prompt_set'], params['prompts'], 'prompts') : coeffs;
  },
  async load() {
    const { evalDilemmasImplementation } = await import('./eval-dilemmas-stage.js');
    return evalDilemmasImplementation;
  },
};
