/**
 * The `eval-dilemmas` stage kind (study-ref §9, §10.4): daily-dilemmas rows scored under one steering method — a dW
 * (`dw` input), RepE directions (`repe` input) — at each coeff, or at −α*, 0, +α* when a `calibration` input is
 * given; with neither input, the prompt baselines (§8): `prompt:base` at coeff 0 and each other prompt once, with
 * its system prompt, labelled coeff 1.
 *
 * The prompt template (`format`, `instruction`) and the `anchor` are params of this kind (and ablate-delora)
 * only, so editing them reruns the evaluation stages and what depends on them, nothing upstream.
 * Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { checkCoeffsIncludeZero, checkPromptNames } from '../lib/steer/param-checks.js';
import { evalDilemmasParams } from './params.js';

export const evalDilemmasKind = defineKind({
  name: 'eval-dilemmas',
  /** 1.2.0: format f3 (guided chain of thought) and its think_tokens */
  version: '1.2.0',
  description: 'Daily-dilemmas Yes/No scores (logratio, pmass) and surgical informedness for a dW, RepE, or the prompt baselines',
  paramsSchema: evalDilemmasParams,
  inputs: {
    model: { description: 'the base model (a model stage)' },
    dilemmas: { description: 'the evaluation rows (a dilemmas stage)' },
    dw: { description: 'a diff stage: steer with θ + α·dW', optional: true },
    repe: { description: 'a repe stage: add α·direction after each layer of its range', optional: true },
    calibration: { description: 'a calibrate stage of the same method: evaluate at −α*, 0, +α*', optional: true },
  },
  resources: 'accel',
  externalInputs(params) {
    const coeffs = checkCoeffsIncludeZero(params.coeffs, 'α = 0 is the reference of SI and of every delta');
    return coeffs.ok ? checkPromptNames(params.prompt_set, params.prompts, 'prompts') : coeffs;
  },
  async load() {
    const { evalDilemmasImplementation } = await import('./eval-dilemmas-stage.js');
    return evalDilemmasImplementation;
  },
});
