/**
 * Where a stage's model comes from: the `model` input (a `model` stage: model-ref.json or a generated tiny
 * model directory, read with stages/model/model-ref.ts) when connected, else `with: model` (a path or Hub id in
 * the local Hugging Face cache). Cheap: no TensorFlow.js import (loading is in stage-model.ts).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { ExternalInputsResult, StageContext } from '../../../src/contract/stage-kind.js';
import { resolveModelDir } from '../../../src/core/model-dir.js';
import { err, ok } from '../../../src/contract/result.js';

export const MODEL_PARAM_SCHEMA = {
  type: 'string',
  minLength: 1,
  description: 'model directory or Hugging Face Hub id (ORG/NAME[@REV], local cache only); ignored when a `model` input is connected',
} as const;

export const MODEL_INPUT = {
  description: 'a model stage (uses: model) or any stage whose output is a Hugging Face model directory; wins over `with: model`',
  optional: true,
} as const;

/** externalInputs for `with: model` (nothing when absent: the upstream `model` input provides it). */
export function modelExternalInputs(params: Readonly<Record<string, unknown>>, projectDir: string): ExternalInputsResult {
  const model = params['model'];
  if (model === undefined) return ok([]);
  if (typeof model !== 'string') return err({ message: 'model must be a string', param: 'model' });
  const r = resolveModelDir(model, { baseDir: projectDir });
  if (!r.ok) return err({ message: r.error, param: 'model' });
  return ok([{ label: 'model', path: r.value.dir }]);
}

/** `with: <key>` path resolved against the project directory; checks it exists. */
export function projectFile(ctx: StageContext, key: string, value: string): string {
  const p = value.startsWith('/') ? value : join(ctx.projectDir, value);
  if (!existsSync(p)) throw new Error(`${ctx.stageId}: with.${key} = ${value}: ${p} does not exist`);
  return p;
}
