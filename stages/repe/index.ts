/**
 * The `repe` stage kind (study-ref §7): per-layer RepE directions, PCA(1) of centred last-token hidden-state
 * differences between the positive and negative persona system prompts, fit on every layer; the layers they are
 * applied at are recorded with them (the study's 8..21 for 28 layers, i.e. `range(round(0.3·L), round(0.8·L))`
 * for L layers — the same slice the adapters train on, by depth).
 * Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { behaviorFile, loadBehaviorDefinition } from '../lib/behavior-definition.js';
import { questionsExternalInput } from '../lib/questions-param.js';
import { repeParams } from './params.js';
import { err, ok } from '../../src/contract/result.js';

export const repeKind = defineKind({
  name: 'repe',
  version: '1.0.0',
  description: 'RepE directions: PCA(1) of last-token persona hidden-state differences per layer, with the layers to apply them at',
  paramsSchema: repeParams,
  inputs: { model: { description: 'the base model (a model stage)' } },
  resources: 'accel',
  externalInputs(params, env) {
    const questions = questionsExternalInput(params, env.projectDir);
    if (!questions.ok) return questions;
    const defPath = behaviorFile(env.projectDir, params.behavior);
    const def = loadBehaviorDefinition(defPath);
    if (!def.ok) return err({ message: def.error, param: 'behavior' });
    return ok([...questions.value, { label: 'behavior', path: defPath }]);
  },
  async load() {
    const { repeImplementation } = await import('./repe-stage.js');
    return repeImplementation;
  },
});
