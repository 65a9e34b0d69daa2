/**
 * `wsflow logs STAGE [--execution N]`: the saved stdout/stderr and log lines of a stage's latest execution.
 */
import { readFileSync } from 'node:fs';
import { stateDbPathOf } from '../plan/engine-context.js';
import type { ExecutionRow } from '../state/state-store.js';
import { openRecordedState } from '../project.js';
import type { CommandEnv } from './command-env.js';

export interface LogsCommandOptions {
  projectDir: string;
  stage: string;
  execution?: number;
}

export function logsCommand(o: LogsCommandOptions, env: CommandEnv): number {
  const state = openRecordedState(o.projectDir, { readOnly: true });
  if (!state) {
    env.stderr.write(`error: no executions recorded yet (no ${stateDbPathOf(o.projectDir)})\n`);
    return 1;
  }
  try {
    const { store } = state;
    let exec: ExecutionRow | undefined;
    if (o.execution !== undefined) {
      exec = store.getExecution(o.execution);
      if (!exec || exec.stage_id !== o.stage) {
        env.stderr.write(`error: execution #${o.execution} is not an execution of ${o.stage}\n`);
        return 1;
      }
    } else {
      exec = store.latestExecutionOfStage(o.stage);
      if (!exec) {
        const named = store.db
          .prepare(`SELECT DISTINCT stage_id FROM executions WHERE stage_id LIKE ? ORDER BY stage_id`)
          .all(`${o.stage}@%`) as { stage_id: string }[];
        env.stderr.write(
          named.length
            ? `error: ${o.stage} has several cells; name one: ${named.map((r) => r.stage_id).join(', ')}\n`
            : `error: no execution of ${o.stage} recorded\n`,
        );
        return 1;
      }
    }
    if (!exec.log_path) {
      env.stderr.write(`error: execution #${exec.id} of ${o.stage} has no log\n`);
      return 1;
    }
    let text: string;
    try {
      text = readFileSync(exec.log_path, 'utf8');
    } catch {
      env.stderr.write(`error: the log of execution #${exec.id} (${exec.log_path}) is gone\n`);
      return 1;
    }
    env.stdout.write(text);
    return 0;
  } finally {
    state.close();
  }
}
