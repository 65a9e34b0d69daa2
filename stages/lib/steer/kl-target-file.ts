/**
 * `kl_target.json`: what a kl-target stage measured once for every calibrate stage — the statistic's settings,
 * the target budget, and the target prompt's audit numbers — next to the two prompt sets. Cheap (no TensorFlow.js).
 */
import { join } from 'node:path';
import type { StageContext } from '../../../src/contract/stage-kind.js';
import { FILES } from '../artifacts.js';
import { readJsonFile } from '../json-file.js';
import { oneInput } from '../stage-inputs.js';
import type { KlStats } from '../kl-stats.js';
import type { QuestionEntry } from '../question-pool.js';
import type { KlVersion } from './kl-measure.js';

export const KL_TARGET_FILE = 'kl_target.json';

export interface KlTargetFile {
  version: KlVersion;
  /** the p95 budget every method is calibrated to */
  target: number;
  /** how the target was obtained */
  target_source: string;
  /** the target prompt method (v1: what set the budget; v2/v3: a logged reference) */
  target_method: string;
  n_tokens: number;
  max_length: number;
  batch_size: number;
  prompt_set: string;
  seed: number;
  n_calib: number;
  n_audit: number;
  /** the target prompt at α = 1 on the calibration and audit sets (audit.csv's first row) */
  target_calib: KlStats;
  target_audit: KlStats;
}

export interface KlTargetInput {
  file: KlTargetFile;
  calibration: QuestionEntry[];
  audit: QuestionEntry[];
  dir: string;
  stageId: string;
}

const readJson = <T>(file: string): T => readJsonFile<T>(file, 'the "target" input must be a kl-target stage');

export function readKlTarget(dir: string, stageId: string): KlTargetInput {
  const file = readJson<KlTargetFile>(join(dir, KL_TARGET_FILE));
  if (!Number.isFinite(file.target)) throw new Error(`${join(dir, KL_TARGET_FILE)}: target must be a finite number, got ${String(file.target)}`);
  return {
    file,
    calibration: readJson<QuestionEntry[]>(join(dir, FILES.calibrationPrompts)),
    audit: readJson<QuestionEntry[]>(join(dir, FILES.auditPrompts)),
    dir,
    stageId,
  };
}

export function klTargetFromContext(ctx: Pick<StageContext, 'inputs' | 'stageId'>): KlTargetInput {
  const up = oneInput(ctx, 'target', 'a kl-target stage');
  return readKlTarget(up.dir, up.stageId);
}
