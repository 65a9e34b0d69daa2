/** A calibrate stage's α* for a method, from its summary.csv (v1/v2 or v3 columns). Cheap (no TensorFlow.js). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KL_SUMMARY, KL_SUMMARY_V3 } from './artifacts.js';
import { csvHeader, readTable } from './csv.js';

export interface CalibratedAlpha {
  method: string;
  /** α* for +α */
  alphaPos: number;
  /** α* magnitude for −α (v1/v2: the same as alphaPos) */
  alphaNeg: number;
  converged: boolean;
  file: string;
}

export function readCalibratedAlpha(dir: string, method: string): CalibratedAlpha {
  const file = join(dir, KL_SUMMARY.file);
  if (!existsSync(file)) throw new Error(`${file} is missing; the "calibration" input must be a calibrate stage`);
  const v3 = csvHeader(file).includes('alpha_pos');
  const rows = v3
    ? readTable(file, KL_SUMMARY_V3, { exactPath: true }).map((r) => ({ method: r.method, alphaPos: r.alpha_pos, alphaNeg: r.alpha_neg, converged: r.converged_pos && r.converged_neg }))
    : readTable(file, KL_SUMMARY, { exactPath: true }).map((r) => ({ method: r.method, alphaPos: r.calibrated_alpha, alphaNeg: r.calibrated_alpha, converged: r.converged }));
  const row = rows.find((r) => r.method === method);
  if (row === undefined) throw new Error(`${file} has no row for method ${method} (it calibrates ${rows.map((r) => r.method).join(', ') || 'nothing'}); connect the calibrate stage of the same method`);
  if (!(Number.isFinite(row.alphaPos) && row.alphaPos > 0 && Number.isFinite(row.alphaNeg) && row.alphaNeg > 0)) {
    throw new Error(`${file}: α* for ${method} must be positive and finite, got +${row.alphaPos} / −${row.alphaNeg}`);
  }
  return { ...row, file };
}
