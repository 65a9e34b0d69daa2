/**
 * What the engine's commands need from the CLI: output streams, where the built-in kinds and the worker entry are,
 * and which executors there are.
 */
import type { KindSource } from '../engine/plan/engine-context.js';
import type { PlanError } from '../engine/plan/static-ingredients.js';
import type { ExecutorCatalog } from '../engine/exec/executor.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatDiagnostic } from '../pipeline/format-diagnostic.js';
import type { Diagnostic } from '../pipeline/types.js';
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

/** A planning error as a diagnostic: `stage train_pos@lora (with.model): …` at the span of the offending value. */
export function planDiagnostic(e: PlanError): Diagnostic {
  const param = e.param ? ` (with.${e.param})` : '';
  return { severity: 'error', message: `stage ${e.stageId}${param}: ${e.message}`, ...(e.span ? { span: e.span } : {}) };
}

/**
 * Planning errors printed as load errors are (format-diagnostic.ts: the `file:line:col: error:` line, the source line
 * and a caret under the span), then the count. Spans name the pipeline file as the user typed it from the cwd.
 */
export function printPlanErrors(errors: readonly PlanError[], env: Pick<CommandEnv, 'stderr'>, outcome = 'nothing was run or written'): void {
  const texts = new Map<string, string | undefined>();
  const textOf = (file: string): string | undefined => {
    if (!texts.has(file)) {
      try {
        texts.set(file, readFileSync(resolve(file), 'utf8'));
      } catch {
        texts.set(file, undefined);
      }
    }
    return texts.get(file);
  };
  const color = colorWanted(env.stderr);
  for (const e of errors) env.stderr.write(`${formatDiagnostic(planDiagnostic(e), e.span && textOf(e.span.file), { color })}\n`);
  env.stderr.write(`${errors.length} planning error${errors.length === 1 ? '' : 's'}; ${outcome}\n`);
}
