/**
 * The `dilemmas` stage kind: loads the daily-dilemmas evaluation rows once (local path or the local Hugging Face
 * cache; nothing is downloaded), validates and selects them (§9.1), and writes them as `rows.jsonl` for the
 * evaluation stages. A missing dataset is therefore one planning error, here, not one per evaluation stage.
 * Cheap to import: the implementation is behind load().
 */
import { DEFAULT_DILEMMA_DATASET, resolveDilemmaFiles, type DilemmaSource } from '../lib/dilemmas-dataset.js';
import type { ExternalInputsResult, StageKind } from '../../src/contract/stage-kind.js';

export const DILEMMAS_KIND_NAME = 'dilemmas';
/** 1.1.0: dilemmas_info.json names the files relative to the dataset (no absolute paths) */
export const DILEMMAS_KIND_VERSION = '1.1.0';

export function datasetSource(raw: unknown): { source: DilemmaSource; label: string } {
  const given = (raw ?? {}) as Record<string, string | null | undefined>;
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

export const dilemmasKind: StageKind = {
  name: DILEMMAS_KIND_NAME,
  version: DILEMMAS_KIND_VERSION,
  description: 'Daily-dilemmas rows from a local path or the local Hugging Face cache, validated and selected, as rows.jsonl',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dataset: {
        type: 'object',
        additionalProperties: false,
        default: {},
        description: `{hf: ORG/NAME, config, split, revision} from the local Hugging Face cache (default ${DEFAULT_DILEMMA_DATASET.dataset} / ${DEFAULT_DILEMMA_DATASET.config} / ${DEFAULT_DILEMMA_DATASET.split}), or {path: FILE-OR-DIR} (parquet, JSONL, JSON or CSV), e.g. data/synthetic-dilemmas`,
        // null = absent, so that a profile can switch hf → path (profiles deep-merge maps)
        properties: {
          hf: { type: ['string', 'null'], minLength: 3 },
          path: { type: ['string', 'null'], minLength: 1 },
          config: { type: ['string', 'null'], minLength: 1 },
          split: { type: ['string', 'null'], minLength: 1 },
          revision: { type: ['string', 'null'], minLength: 1 },
        },
      },
      n_dilemmas: { type: ['integer', 'null'], minimum: 1, default: null, description: 'the first n dilemmas of the sorted unique dilemma_idx (null: all; the E2 tables use all 219)' },
      honesty_only: { type: 'boolean', default: false, description: "keep only rows whose own action carries an honesty tag (the later variant; the published tables don't)" },
    },
  },
  inputs: {},
  resources: 'cpu',
  externalInputs(params, env): ExternalInputsResult {
    let source: DilemmaSource;
    try {
      source = datasetSource(params['dataset']).source;
    } catch (e) {
      return { ok: false, error: (e as Error).message, param: 'dataset' };
    }
    const r = resolveDilemmaFiles(source, { projectDir: env.projectDir });
    if (!r.ok) return { ok: false, error: `${r.error}; \`wsflow run report --profile smoke\` runs the study on the shipped synthetic dilemmas instead`, param: 'dataset' };
    return { ok: true, inputs: r.value.files.map((path) => ({ label: 'dataset', path })) };
  },
  async load() {
    const { dilemmasImplementation } = await import('./dilemmas-stage.js');
    return dilemmasImplementation;
  },
};
