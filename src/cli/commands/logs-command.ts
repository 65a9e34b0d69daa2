/**
 * `wsflow logs STAGE [--execution N]`: the saved stdout/stderr and log lines of a stage's latest execution.
 */
import { stageLogText, type StageLogMissing } from '../../engine/api/stage-log-text.js';
import type { CommandEnv } from '../command-env.js';

export interface LogsCommandOptions {
  projectDir: string;
  stage: string;
  execution?: number;
  profile?: string | null;
}

function missingLine(m: StageLogMissing, stage: string): string {
  switch (m.reason) {
    case 'no-state':
      return `no executions recorded yet (no ${m.stateDb})`;
    case 'not-of-stage':
      return `execution #${m.execution} is not an execution of ${stage}`;
    case 'several-cells':
      return `${stage} has several cells; name one: ${m.cells.join(', ')}`;
    case 'never-executed':
      return `no execution of ${stage} recorded`;
    case 'no-log':
      return `execution #${m.executionId} of ${stage} has no log`;
    case 'log-gone':
      return `the log of execution #${m.executionId} (${m.logPath}) is gone`;
  }
}

export function logsCommand(o: LogsCommandOptions, env: CommandEnv): number {
  const log = stageLogText(o.projectDir, o.stage, o.execution, o.profile ?? null);
  if (!log.ok) {
    env.stderr.write(`error: ${missingLine(log.error, o.stage)}\n`);
    return 1;
  }
  env.stdout.write(log.value);
  return 0;
}
