/**
 * The saved output of one execution of a stage (its stdout, stderr and log lines), found by stage and optionally
 * execution number; what `wsflow logs` prints.
 */
import { readFileSync } from 'node:fs';
import { stateDbPathOf } from '../plan/engine-context.js';
import type { ExecutionRow } from '../state/state-store.js';
import { openRecordedState } from '../project.js';
import { err, ok, type Result } from '../../contract/result.js';

/** Why there is no log to show. */
export type StageLogMissing =
  | { reason: 'no-state'; stateDb: string }
  | { reason: 'not-of-stage'; execution: number }
  | { reason: 'several-cells'; cells: string[] }
  | { reason: 'never-executed' }
  | { reason: 'no-log'; executionId: number }
  | { reason: 'log-gone'; executionId: number; logPath: string };

/** The log's text, or why there is none to show. */
export type StageLogOutcome = Result<string, StageLogMissing>;

/** `profile`: whose latest execution (profiles are namespaces); an explicit execution number is any profile's. */
export function stageLogText(projectDir: string, stage: string, execution: number | undefined, profile: string | null = null): StageLogOutcome {
  const state = openRecordedState(projectDir, { readOnly: true, profile });
  if (!state) return err({ reason: 'no-state', stateDb: stateDbPathOf(projectDir) });
  try {
    const { store } = state;
    let exec: ExecutionRow | undefined;
    if (execution !== undefined) {
      exec = store.getExecution(execution);
      if (!exec || exec.stage_id !== stage) return err({ reason: 'not-of-stage', execution });
    } else {
      exec = store.latestExecutionOfStage(stage);
      if (!exec) {
        const named = store.db
          .prepare(`SELECT DISTINCT stage_id FROM executions WHERE stage_id LIKE ? ORDER BY stage_id`)
          .all(`${stage}@%`) as { stage_id: string }[];
        return err(named.length ? { reason: 'several-cells', cells: named.map((r) => r.stage_id) } : { reason: 'never-executed' });
      }
    }
    if (!exec.log_path) return err({ reason: 'no-log', executionId: exec.id });
    try {
      return ok(readFileSync(exec.log_path, 'utf8'));
    } catch {
      return err({ reason: 'log-gone', executionId: exec.id, logPath: exec.log_path });
    }
  } finally {
    state.close();
  }
}
