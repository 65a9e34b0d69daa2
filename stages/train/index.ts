/**
 * The `train` stage kind: one adapter type × one persona sign, trained on the `data` stage's pairs as the
 * reference study (study-ref §3). Cheap to import: training is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { MODEL_INPUT, modelExternalInputs } from '../lib/model/model-source.js';
import { trainParams } from './params.js';

export const trainKind = defineKind({
  name: 'train',
  version: '1.0.0',
  description: 'One adapter (lora, dora, pissa, delora, oft, ia3) trained on one persona sign: PEFT adapter dir, merged weights, loss curve',
  paramsSchema: trainParams,
  inputs: {
    data: { description: 'the data stage (pairs.jsonl)' },
    model: MODEL_INPUT,
  },
  resources: 'accel',
  externalInputs(params, env) {
    return modelExternalInputs(params, env.projectDir);
  },
  async load() {
    const { trainImplementation } = await import('./train-stage.js');
    return trainImplementation;
  },
});
