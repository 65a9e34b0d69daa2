/** A `dilemmas` stage's output: its file names (the stage writes them) and reading it in the evaluation stages. Cheap (no TensorFlow.js). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext } from '../../src/contract/stage-kind.js';
import { validateDilemmaRecord, type DilemmaRow } from './dilemmas-dataset.js';
import { readJsonFile } from './json-file.js';
import { oneInput } from './stage-inputs.js';

export const DILEMMA_ROWS_FILE = 'rows.jsonl';
export const DILEMMAS_INFO_FILE = 'dilemmas_info.json';

export interface DilemmasInfo {
  dataset: string;
  /** the data files, relative to the dataset directory or cache snapshot */
  files: string[];
  /** the Hugging Face cache snapshot (commit) they came from; null for a local path */
  revision: string | null;
  format: string;
  description: string;
  fingerprint: string;
  synthetic: boolean;
  n_rows: number;
  n_dilemmas: number;
  n_available_rows: number;
  n_available_dilemmas: number;
  honesty_only: boolean;
}

export interface DilemmaInput {
  rows: DilemmaRow[];
  info: DilemmasInfo;
  stageId: string;
}

export function readDilemmasOutput(dir: string): { rows: DilemmaRow[]; info: DilemmasInfo } {
  const rowsFile = join(dir, DILEMMA_ROWS_FILE);
  const infoFile = join(dir, DILEMMAS_INFO_FILE);
  if (!existsSync(rowsFile) || !existsSync(infoFile)) throw new Error(`${dir}: no ${DILEMMA_ROWS_FILE}/${DILEMMAS_INFO_FILE}; the "dilemmas" input must be a dilemmas stage (uses: dilemmas)`);
  const info = readJsonFile<DilemmasInfo>(infoFile);
  const rows = readFileSync(rowsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(l) as Record<string, unknown>;
      } catch (e) {
        throw new Error(`${rowsFile}:${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      return validateDilemmaRecord(record, rowsFile, i);
    });
  if (rows.length === 0) throw new Error(`${rowsFile}: no rows`);
  return { rows, info };
}

export function dilemmasFromContext(ctx: Pick<StageContext, 'inputs' | 'stageId'>): DilemmaInput {
  const up = oneInput(ctx, 'dilemmas', 'a stage with uses: dilemmas');
  return { ...readDilemmasOutput(up.dir), stageId: up.stageId };
}
