/**
 * The `dd-benchmark` stage kind (study-ref §9.7, T2, `ws.eval.full_dd_benchmark`): every dW of a behaviour on the
 * daily-dilemmas rows at coeffs −2…2, on one model instance; per-row and per-(adapter, coeff) CSVs with the
 * reference's columns, and its check that every adapter and coeff scored 2·n_dilemmas rows.
 * Cheap to import: the implementation is behind load().
 */
import { defineKind } from '../../src/contract/stage-kind.js';
import { checkCoeffsIncludeZero } from '../lib/steer/param-checks.js';
import { ddBenchmarkParams } from './params.js';

export const ddBenchmarkKind = defineKind({
  name: 'dd-benchmark',
  version: '1.0.0',
  description: 'The full daily-dilemmas benchmark (T2): every dW at coeffs −2…2, per-row and per-(adapter, coeff) tables',
  paramsSchema: ddBenchmarkParams,
  inputs: {
    model: { description: 'the base model (a model stage)' },
    dilemmas: { description: 'a dilemmas stage (all rows: the study uses the 219 dilemmas)' },
    dw: { description: 'the diff stages to benchmark', multiple: true },
  },
  resources: 'accel',
  externalInputs(params) {
    return checkCoeffsIncludeZero(params.coeffs, 'it is the reference of SI and delta_vs_0');
  },
  async load() {
    const { ddBenchmarkImplementation } = await import('./dd-benchmark-stage.js');
    return ddBenchmarkImplementation;
  },
});
