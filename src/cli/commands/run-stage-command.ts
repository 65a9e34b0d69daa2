/**
 * `wsflow _run-stage SPEC.json [--events FILE]` (hidden): runs exactly one stage from a spec file, as a local
 * worker does, writing its events as JSON lines (to FILE, else stdout). What a cluster executor's job runs.
 * Exit 0 on success, 1 on failure (the error is the last event), 130 when interrupted.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { runStageSpec } from '../../engine/exec/run-stage-spec.js';
import type { StageRunEvent, StageRunSpec } from '../../engine/exec/stage-spec.js';
import type { CommandEnv } from '../command-env.js';

export async function runStageCommand(specFile: string, eventsFile: string | undefined, env: CommandEnv): Promise<number> {
  let spec: StageRunSpec;
  try {
    spec = JSON.parse(readFileSync(specFile, 'utf8')) as StageRunSpec;
  } catch (err) {
    env.stderr.write(`error: cannot read stage spec ${specFile}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const write = (line: unknown): void => {
    const text = `${JSON.stringify(line)}\n`;
    if (eventsFile) appendFileSync(eventsFile, text);
    else env.stdout.write(text);
  };
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const outcome = await runStageSpec(spec, (e: StageRunEvent) => write({ type: 'event', event: e }), controller.signal);
    write({ type: 'finished', outcome });
    return outcome.ok ? 0 : outcome.error.reason === 'interrupted' ? 130 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
