/**
 * The `kl-target` stage kind (study-ref §10): measured once, shared by every calibrate stage. It draws the calibration
 * and audit prompt sets from the question pool, fixes the KL statistic (v1 teacher-forced over the last 20 suffix
 * tokens, canonical; v2/v3 trajectory KL), and sets the budget: v1 the p95 of the engineered honest prompt at
 * α = 1 on the calibration set (0.6147 nats for Qwen3-0.6B in the study); v2/v3 a constant (1.0 / 0.5). The
 * reference prompts are measured beside it (prompt_refs.csv).
 * Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { questionsExternalInput } from '../lib/questions-param.js';
import { checkPromptNames } from '../lib/steer/param-checks.js';
import { klTargetParams } from './params.js';

export const klTargetKind = defineKind({
  name: 'kl-target',
  version: '1.0.0',
  description: 'The KL budget for calibration: prompt sets, statistic, and the target p95 (v1: the engineered honest prompt\'s)',
  paramsSchema: klTargetParams,
  inputs: { model: { description: 'the base model (a model stage)' } },
  resources: 'accel',
  externalInputs(params, env) {
    for (const [names, key] of [[params.target_prompt, 'target_prompt'], [params.reference_prompts, 'reference_prompts']] as const) {
      const checked = checkPromptNames(params.prompt_set, names, key);
      if (!checked.ok) return checked;
    }
    return questionsExternalInput(params, env.projectDir);
  },
  async load() {
    const { klTargetImplementation } = await import('./kl-target-stage.js');
    return klTargetImplementation;
  },
});
