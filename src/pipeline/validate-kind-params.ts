/**
 * `with:` against the kind's paramsSchema (ajv, defaults applied). Validators are compiled lazily, once per kind
 * object, only for kinds the pipeline uses: compiling every built-in schema at start-up would cost `status` time.
 */
import AjvModule from 'ajv';
import type { ValidateFunction } from 'ajv';
import type { StageKind } from '../contract/stage-kind.js';
import type { DiagnosticSink } from './diagnostics.js';
import { reportAjvErrors } from './validate-schema.js';
import type { PlainValue, Range, SourceNode } from './source-tree.js';
import type { Result } from '../contract/result.js';

const Ajv = AjvModule.default;

let ajv: InstanceType<typeof Ajv> | undefined;
const validators = new WeakMap<StageKind, Result<ValidateFunction, string>>();

/** The compiled validator of a kind's paramsSchema, or why the schema does not compile. */
export function kindParamsValidator(kind: StageKind): Result<ValidateFunction, string> {
  let validator = validators.get(kind);
  if (!validator) {
    // strict: false because kind authors may annotate schemas with keywords ajv does not know
    ajv ??= new Ajv({ allErrors: true, useDefaults: true, verbose: true, allowUnionTypes: true, strict: false });
    try {
      validator = { ok: true, value: ajv.compile(kind.paramsSchema) };
    } catch (err) {
      validator = { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    validators.set(kind, validator);
  }
  return validator;
}

export interface KindParamsContext {
  stageName: string;
  /** the `with:` node (absent when the stage has none: then `value` is {}) */
  withNode: SourceNode | undefined;
  /** the `with:` key */
  withKeyRange: Range | undefined;
  /** underlined for errors when there is no `with:` (the stage's key) */
  stageRange: Range;
  /** the `uses:` value, for a schema that does not compile */
  usesRange: Range;
}

/** Validates the interpolated `with:` value; returns it with schema defaults applied, or undefined on errors. */
export function validateKindParams(
  kind: StageKind,
  value: PlainValue,
  context: KindParamsContext,
  sink: DiagnosticSink,
): Record<string, PlainValue> | undefined {
  const validator = kindParamsValidator(kind);
  if (!validator.ok) {
    sink.error(`stage kind "${kind.name}" has an invalid paramsSchema: ${validator.error}`, context.usesRange);
    return undefined;
  }
  const copy = structuredClone(value);
  if (validator.value(copy)) return copy as Record<string, PlainValue>;
  const root: SourceNode = context.withNode ?? { kind: 'map', start: context.stageRange.start, end: context.stageRange.end, entries: new Map() };
  const errorContext = { prefix: ['stages', context.stageName, 'with'], suffix: ` (kind "${kind.name}")` };
  reportAjvErrors(
    validator.value.errors ?? [],
    root,
    sink,
    context.withKeyRange ? { ...errorContext, rootKeyRange: context.withKeyRange } : { ...errorContext, fallback: context.stageRange },
  );
  if (!sink.hasErrors) sink.error(`stages.${context.stageName}.with does not match kind "${kind.name}"`, context.withNode ?? context.stageRange);
  return undefined;
}
