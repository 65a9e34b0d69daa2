/**
 * Why a stage that never ran has not: a new cell of a stage whose other cells ran, named by the matrix values no
 * recorded cell has ("new matrix value seed=1"), else a new combination of values that each ran before.
 */
import type { PlannedStage, Pipeline } from '../../pipeline/types.js';
import type { StateStore } from '../state/state-store.js';
import type { Reason } from './reasons.js';

export function neverRunReason(pipeline: Pipeline, store: StateStore, stage: PlannedStage): Reason {
  const axes = Object.keys(stage.matrix);
  if (axes.length === 0) return { type: 'never-run' };
  const prefix = `${stage.name}@`;
  const ran = (store.db.prepare(`SELECT DISTINCT stage_id FROM executions WHERE substr(stage_id, 1, ?) = ?`).all(prefix.length, prefix) as { stage_id: string }[])
    .map((r) => pipeline.stages.get(r.stage_id))
    .filter((s): s is PlannedStage => s !== undefined && s.id !== stage.id);
  if (ran.length === 0) return { type: 'never-run' };
  const newValues = axes
    .filter((a) => !ran.some((s) => String(s.matrix[a]) === String(stage.matrix[a])))
    .map((a) => ({ axis: a, value: String(stage.matrix[a]) }));
  return { type: 'never-run', newCell: { newValues } };
}
