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
      return `no execution of ${stage} recorded: it has not run yet (wsflow run ${stage})`;
    case 'no-log':
      return `execution #${m.executionId} of ${stage} has no log`;
    case 'log-gone':
      return `the log of execution #${m.executionId} (${m.logPath}) is gone`;
  }
}

/**
 * Exit 0 with the log; 2 when the argument is wrong (a stage the pipeline does not have, a name with several cells,
 * an execution of another stage); 1 when the stage exists but has nothing to show. `unknownStage` says whether the
 * pipeline lacks the stage (its "unknown target" line), asked only when nothing was recorded under that id.
 */
export async function logsCommand(o: LogsCommandOptions, env: CommandEnv, unknownStage: (stage: string) => Promise<string | null>): Promise<number> {
  const log = stageLogText(o.projectDir, o.stage, o.execution, o.profile ?? null);
  if (!log.ok) {
    const m = log.error;
    if (m.reason === 'never-executed' || m.reason === 'no-state') {
      const unknown = await unknownStage(o.stage);
      if (unknown !== null) {
        env.stderr.write(`error: ${unknown}\n`);
        return 2;
      }
    }
    env.stderr.write(`error: ${missingLine(m, o.stage)}\n`);
    return m.reason === 'several-cells' || m.reason === 'not-of-stage' ? 2 : 1;
  }
  env.stdout.write(log.value);
  return 0;
}
