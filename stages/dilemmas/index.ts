/**
 * The `dilemmas` stage kind: loads the daily-dilemmas evaluation rows once (local path or the local Hugging Face
 * cache; nothing is downloaded), validates and selects them (study-ref §9.1), and writes them as `rows.jsonl` for the
 * evaluation stages. A missing dataset is therefore one planning error, here, not one per evaluation stage.
 * Cheap to import: the implementation is behind load().
 */
import { resolveDilemmaFiles, type DilemmaSource } from '../lib/dilemmas-dataset.js';
import { defineKind, type ExternalInputsResult } from '../../src/contract/stage-kind.js';
import { datasetSource } from './dataset-source.js';
import { dilemmasParams } from './params.js';
import { err, ok } from '../../src/contract/result.js';

export const dilemmasKind = defineKind({
  name: 'dilemmas',
  /** 1.1.0: dilemmas_info.json names the files relative to the dataset (no absolute paths) */
  version: '1.1.0',
  description: 'Daily-dilemmas rows from a local path or the local Hugging Face cache, validated and selected, as rows.jsonl',
  paramsSchema: dilemmasParams,
  inputs: {},
  resources: 'cpu',
  externalInputs(params, env): ExternalInputsResult {
    let source: DilemmaSource;
    try {
      source = datasetSource(params.dataset).source;
    } catch (e) {
      return err({ message: (e as Error).message, param: 'dataset' });
    }
    const r = resolveDilemmaFiles(source, { projectDir: env.projectDir });
    if (!r.ok) return err({ message: `${r.error}; \`wsflow run report --profile smoke\` runs the study on the shipped synthetic dilemmas instead`, param: 'dataset' });
    return ok(r.value.files.map((path) => ({ label: 'dataset', path })));
  },
  async load() {
    const { dilemmasImplementation } = await import('./dilemmas-stage.js');
    return dilemmasImplementation;
  },
});
