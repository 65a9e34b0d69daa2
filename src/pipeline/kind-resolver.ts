/**
 * Turns `uses:` into a StageKind: a built-in name, or a project-local JS module (`./kinds/sleep.js`) whose default
 * export, or export named `kind`, is a StageKind. The loader never imports stages/ itself (the engine and pipeline
 * layers know nothing about ML): callers pass the built-in registry in.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StageKind } from '../contract/stage-kind.js';
import { closestMatch, didYouMean, listNames } from './suggest.js';
import type { Result } from '../contract/result.js';

export interface ResolvedKind {
  kind: StageKind;
  /** absolute path of the module when `uses:` names a project-local module */
  modulePath?: string;
}

/** Resolves `uses:` (as written) for the project in `projectDir`; the error is one sentence without location. */
export type KindResolver = (uses: string, projectDir: string) => Promise<Result<ResolvedKind, string>>;

/** True when `uses:` names a module file rather than a built-in kind. */
export function isModuleReference(uses: string): boolean {
  return uses.startsWith('./') || uses.startsWith('../') || path.isAbsolute(uses) || /\.[cm]?js$/.test(uses);
}

/** Why `value` is not a usable StageKind, or undefined when it is one. */
export function stageKindProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'it is not an object';
  const kind = value as Record<string, unknown>;
  const isRecord = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (typeof kind['name'] !== 'string' || kind['name'] === '') return 'it has no string `name`';
  if (typeof kind['version'] !== 'string' || kind['version'] === '') return 'it has no string `version`';
  if (!isRecord(kind['paramsSchema'])) return '`paramsSchema` is not a JSON schema object';
  if (!isRecord(kind['inputs'])) return '`inputs` is not an object';
  if (kind['resources'] !== 'accel' && kind['resources'] !== 'cpu') return '`resources` is neither "accel" nor "cpu"';
  if (typeof kind['load'] !== 'function') return 'it has no `load()` function';
  return undefined;
}

/** The built-in kinds, or how to load them: importing every built-in kind costs a pipeline that uses none. */
export type BuiltinKinds = ReadonlyMap<string, StageKind> | (() => Promise<ReadonlyMap<string, StageKind>>);

/**
 * The default resolver: built-ins from `builtins` (stages/index.ts `builtinKinds`, loaded on the first `uses:` that
 * names one when given as a function), anything path-like from disk.
 */
export function createKindResolver(builtinKinds: BuiltinKinds): KindResolver {
  let loaded: Promise<ReadonlyMap<string, StageKind>> | null = null;
  const registry = (): Promise<ReadonlyMap<string, StageKind>> =>
    (loaded ??= typeof builtinKinds === 'function' ? builtinKinds() : Promise.resolve(builtinKinds));
  return async (uses, projectDir) => {
    if (!isModuleReference(uses)) {
      const builtins = await registry();
      const kind = builtins.get(uses);
      if (kind) return { ok: true, value: { kind } };
      const names = [...builtins.keys()].sort();
      const known = names.length === 0 ? 'there are no built-in kinds' : `built-in kinds: ${listNames(names, 12)}`;
      return {
        ok: false,
        error: `unknown stage kind "${uses}"${didYouMean(uses, names)}; ${known} (a project-local kind is a module path such as ./kinds/${uses}.js)`,
      };
    }
    const modulePath = path.resolve(projectDir, uses);
    let version: string;
    try {
      // sync: a stat or two, and node:fs/promises would cost a few ms of every start
      const info = statSync(modulePath);
      if (!info.isFile()) return { ok: false, error: `stage kind module ${uses} is not a file (${modulePath})` };
      // a changed module must be imported afresh in long-lived processes (wsflow watch)
      version = `${info.size}-${info.mtimeMs}`;
    } catch {
      let near: string[] = [];
      try {
        near = readdirSync(path.dirname(modulePath));
      } catch {
        // no directory: no suggestion
      }
      const close = closestMatch(path.basename(modulePath), near);
      const hint = close === undefined ? '' : ` (did you mean "${path.posix.dirname(uses)}/${close}"?)`;
      return { ok: false, error: `cannot find stage kind module ${uses}${hint}; looked for ${modulePath}` };
    }
    let namespace: Record<string, unknown>;
    try {
      namespace = (await import(`${pathToFileURL(modulePath).href}?v=${version}`)) as Record<string, unknown>;
    } catch (err) {
      const message = err instanceof Error ? (err.message.split('\n', 1)[0] ?? err.message) : String(err);
      return { ok: false, error: `cannot load stage kind module ${uses}: ${message}` };
    }
    const candidate = namespace['default'] ?? namespace['kind'];
    if (candidate === undefined) {
      return { ok: false, error: `stage kind module ${uses} exports no stage kind (expected a default export or \`export const kind\`)` };
    }
    const problem = stageKindProblem(candidate);
    if (problem) return { ok: false, error: `stage kind module ${uses} does not export a valid stage kind: ${problem}` };
    return { ok: true, value: { kind: candidate as StageKind, modulePath } };
  };
}
