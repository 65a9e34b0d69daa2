/**
 * The `subspace` stage kind (study-ref §6): weight-only alignment of a dW with its base weights — how much of each
 * tensor's dW lies in the top singular block of W (ratio_top) and, for the residual writers o_proj/down_proj, in the
 * directions the unembedding reads least (ratio_weak). Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { subspaceParams } from './params.js';

export const subspaceKind = defineKind({
  name: 'subspace',
  version: '1.0.0',
  description: 'Subspace analysis of a dW: SVD-of-W alignment (ratio_top) and weak-readout alignment (ratio_weak) per tensor and per module kind',
  paramsSchema: subspaceParams,
  inputs: {
    model: { description: 'the base model (a model stage)' },
    dw: { description: 'a diff stage' },
  },
  resources: 'cpu',
  async load() {
    const { subspaceImplementation } = await import('./subspace-stage.js');
    return subspaceImplementation;
  },
});
