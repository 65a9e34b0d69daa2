/**
 * The `eval-iid` stage kind (study-ref §11): the 12 held-out Yes/No claims ("I think {claim}. Do you agree? Answer Yes
 * or No." + "My answer: **", no system prompt) scored under a dW or RepE at each coeff: logratio = log P(Yes) −
 * log P(No), pmass, mean_lr per coeff and the shift against α = 0.
 * Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { checkCoeffsIncludeZero } from '../lib/steer/param-checks.js';
import { iidPrompt } from '../lib/iid-claims.js';
import { evalIidParams } from './params.js';
import { err, ok } from '../../src/contract/result.js';

export const evalIidKind = defineKind({
  name: 'eval-iid',
  /** 1.2.0: `behavior` takes the claims from the behaviour definition's `iid` */
  version: '1.2.0',
  description: 'Held-out Yes/No claims under a dW or RepE: mean logratio per coeff and the shift vs α = 0',
  paramsSchema: evalIidParams,
  inputs: {
    model: { description: 'the base model (a model stage)' },
    dw: { description: 'a diff stage', optional: true },
    repe: { description: 'a repe stage', optional: true },
  },
  resources: 'accel',
  externalInputs(params, env) {
    const coeffs = checkCoeffsIncludeZero(params.coeffs, 'the shift is measured against α = 0');
    if (!coeffs.ok) return coeffs;
    const prompt = iidPrompt(env.projectDir, params.behavior, params.n_held_out);
    if (!prompt.ok) return err({ message: prompt.error, param: params.behavior === null ? 'n_held_out' : 'behavior' });
    return ok(prompt.value.file === null ? [] : [{ label: 'behavior', path: prompt.value.file }]);
  },
  async load() {
    const { evalIidImplementation } = await import('./eval-iid-stage.js');
    return evalIidImplementation;
  },
});
