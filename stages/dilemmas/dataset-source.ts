/** The `dataset` param of the dilemmas kind as a source to resolve: a local path, or a dataset in the local Hugging Face cache. Cheap. */
import { DEFAULT_DILEMMA_DATASET, type DilemmaSource } from '../lib/dilemmas-dataset.js';
import type { DilemmasParams } from './params.js';

export function datasetSource(given: DilemmasParams['dataset']): { source: DilemmaSource; label: string } {
  const d: { hf?: string; path?: string; config?: string; split?: string; revision?: string } = {};
  for (const k of ['hf', 'path', 'config', 'split', 'revision'] as const) {
    const v = given[k];
    if (v !== null && v !== undefined) d[k] = v;
  }
  if (d.hf !== undefined && d.path !== undefined) throw new Error('dataset: give either `hf` (a dataset in the local Hugging Face cache) or `path`, not both');
  const opt = <K extends string>(k: K, v: string | undefined): Partial<Record<K, string>> => (v === undefined ? {} : ({ [k]: v } as Record<K, string>));
  if (d.path !== undefined) return { source: { kind: 'path', path: d.path, ...opt('config', d.config), ...opt('split', d.split) }, label: d.path };
  const hf = d.hf ?? DEFAULT_DILEMMA_DATASET.dataset;
  const config = d.config ?? DEFAULT_DILEMMA_DATASET.config;
  const split = d.split ?? DEFAULT_DILEMMA_DATASET.split;
  return { source: { kind: 'hf', dataset: hf, config, split, ...opt('revision', d.revision) }, label: `${hf} (${config}/${split})` };
}
