/**
 * What the engine's commands need from the CLI: output streams, where the built-in kinds and the worker entry are,
 * and which executors there are.
 */
import type { KindSource } from '../engine/plan/engine-context.js';
import type { PlanError } from '../engine/plan/static-ingredients.js';
import type { ExecutorCatalog } from '../engine/exec/executor.js';
import { makeStyle, colorWanted, type Style } from './loggers/style.js';

export type OutStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

export interface CommandEnv {
  stdout: OutStream;
  stderr: OutStream;
  /** built-in kinds (fingerprints, worker loading) */
  kindSource: Omit<KindSource, 'kinds'>;
  /** compiled local worker entry */
  workerEntry: string;
  /** the executors --executor offers, by name (the first is the default) */
  executors: ExecutorCatalog;
}

export function styleFor(stream: OutStream): Style {
  return makeStyle(colorWanted(stream));
}

/** `pipeline.yaml:12:5: error: stage train_pos@lora: model: /path does not exist` */
export function formatPlanError(e: PlanError, style: Style): string {
  const where = e.span ? `${e.span.file}:${e.span.line}:${e.span.col}: ` : '';
  const param = e.param ? ` (with.${e.param})` : '';
  return `${where}${style.red('error')}: stage ${e.stageId}${param}: ${e.message}`;
}

export function printPlanErrors(errors: readonly PlanError[], env: CommandEnv): void {
  const s = styleFor(env.stderr);
  for (const e of errors) env.stderr.write(`${formatPlanError(e, s)}\n`);
  env.stderr.write(`${errors.length} planning error${errors.length === 1 ? '' : 's'}; nothing was run or written\n`);
}
