/**
 * The `diff` stage kind (study-ref §4): τ± = merged − base for every tensor the pos/neg adapter touched (kept when
 * Σ|d| > 0), dW = τ+ − τ− over the keys both touched (or the bisector), saved as safetensors under the base
 * model's parameter names, with per-tensor norms and the §4.2 diagnostics as files and metrics.
 * Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { diffParams } from './params.js';

export const diffKind = defineKind({
  name: 'diff',
  version: '2.0.0',
  description: 'Weight diff dW = τ+ − τ− of a positive and a negative adapter (merged − base), with norms and diagnostics',
  paramsSchema: diffParams,
  inputs: {
    model: { description: 'the base model (a model stage)' },
    pos: { description: 'the adapter trained on the positive persona (a train stage: a PEFT adapter directory)' },
    neg: { description: 'the adapter trained on the negative persona' },
  },
  resources: 'accel',
  async load() {
    const { diffImplementation } = await import('./diff-stage.js');
    return diffImplementation;
  },
});
