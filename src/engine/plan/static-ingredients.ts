/**
 * The part of each stage's key that does not depend on upstream results: kind and version (or cmd), params,
 * external inputs and cmd deps, hashed now. Computed for every selected stage before anything runs, so that a
 * missing model or dep is a planning error (exit 2, nothing written) rather than a failure an hour in.
 */
import { join } from 'node:path';
import type { PlannedStage, SourceSpan } from '../../pipeline/types.js';
import type { DepIngredient, ExternalIngredient, KeyIngredients, SourceIngredient, UpstreamIngredient } from '../keys/key-ingredients.js';
import { KEY_FORMAT } from '../keys/key-ingredients.js';
import { kindFingerprint } from '../keys/kind-fingerprint.js';
import type { TreeHash } from '../keys/hashing.js';
import type { FileHasher } from '../keys/file-hasher.js';
import type { EngineContext, OutputLayout, ResolvedKind } from './engine-context.js';
import { outputLayoutOf } from './engine-context.js';
import { err, ok, type Result } from '../../contract/result.js';
import { externalInputsOf } from '../../contract/stage-kind.js';

export interface StaticIngredients {
  stage: PlannedStage;
  resolved: ResolvedKind | null;
  source: SourceIngredient;
  params: Readonly<Record<string, unknown>>;
  paramSources: Readonly<Record<string, string>>;
  globalParams: Readonly<Record<string, unknown>>;
  external: ExternalIngredient[];
  deps: DepIngredient[];
  kindFingerprint: string | null;
  layout: OutputLayout;
}

export interface PlanError {
  stageId: string;
  message: string;
  span?: SourceSpan;
  /** the `with:` key the problem concerns, when known */
  param?: string;
}

type Outcome = Result<StaticIngredients, PlanError>;

export function computeStaticIngredients(
  ctx: Pick<EngineContext, 'pipeline' | 'kinds' | 'hasher' | 'builtinKindsDir'>,
  stage: PlannedStage,
  fingerprints: Map<string, string | null>,
): Outcome {
  const projectDir = ctx.pipeline.projectDir;
  const fail = (message: string, param?: string): Outcome => ({
    ok: false,
    error: { stageId: stage.id, message, ...(stage.span ? { span: stage.span } : {}), ...(param ? { param } : {}) },
  });
  const paramSources: Record<string, string> = {};
  const globalParams: Record<string, unknown> = {};
  for (const b of stage.paramBindings) {
    if (b.from === undefined) continue;
    paramSources[b.key] = b.from;
    for (const name of b.from.split(', ')) {
      const v = lookupDotted(ctx.pipeline.params, name);
      if (v !== undefined) globalParams[name] = v;
    }
  }

  if (stage.source.type === 'cmd') {
    const deps: DepIngredient[] = [];
    for (const dep of stage.deps) {
      const hashed = hashInput(ctx.hasher, join(projectDir, dep));
      if (!hashed.ok) return fail(`dep ${dep} ${hashed.error} (no stage declares it in outs)`);
      deps.push({ path: dep, hash: hashed.value.hash, size: hashed.value.size });
    }
    return {
      ok: true,
      value: {
        stage,
        resolved: null,
        // keys in sorted order, as in all key material (canonical-json.ts)
        source: { cmd: stage.source.cmd, outs: [...stage.outs], type: 'cmd' },
        params: stage.params,
        paramSources,
        globalParams,
        external: [],
        deps,
        kindFingerprint: null,
        layout: outputLayoutOf(stage),
      },
    };
  }

  const uses = stage.source.uses;
  const resolved = ctx.kinds.get(uses);
  if (!resolved) return fail(`stage kind ${JSON.stringify(uses)} was not resolved`);
  const kind = resolved.kind;
  const external: ExternalIngredient[] = [];
  const res = externalInputsOf(kind, stage.params, { projectDir });
  if (!res.ok) return fail(res.error.message, res.error.param);
  for (const input of res.value) {
    const hashed = hashInput(ctx.hasher, input.path);
    if (!hashed.ok) return fail(`${input.label}: ${input.path} ${hashed.error}`);
    external.push({ label: input.label, path: input.path, hash: hashed.value.hash, size: hashed.value.size });
  }
  let fp = fingerprints.get(uses);
  if (fp === undefined) {
    fp = kindFingerprint(
      {
        name: kind.name,
        ...(resolved.modulePath ? { modulePath: resolved.modulePath } : {}),
        ...(kind.codePaths ? { codePaths: kind.codePaths } : {}),
      },
      ctx.hasher,
      ctx.builtinKindsDir,
    );
    fingerprints.set(uses, fp);
  }
  return {
    ok: true,
    value: {
      stage,
      resolved,
      source: { name: kind.name, type: 'kind', version: kind.version },
      params: stage.params,
      paramSources,
      globalParams,
      external,
      deps: [],
      kindFingerprint: fp,
      layout: outputLayoutOf(stage),
    },
  };
}

/** The input's hash and size, or why it cannot be read ("does not exist", …). */
function hashInput(hasher: FileHasher, abs: string): Result<{ hash: string; size: number }, string> {
  try {
    const h = hasher.hashPath(abs);
    return ok({ hash: h.hash, size: h.size });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return err('does not exist');
    if (code === 'EACCES') return err('is not readable (permission denied)');
    return err(`cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Computes static ingredients for the given stages; all planning errors at once. */
export function computeAllStatic(
  ctx: Pick<EngineContext, 'pipeline' | 'kinds' | 'hasher' | 'builtinKindsDir'>,
  stageIds: readonly string[],
): Result<Map<string, StaticIngredients>, PlanError[]> {
  const fingerprints = new Map<string, string | null>();
  const out = new Map<string, StaticIngredients>();
  const errors: PlanError[] = [];
  for (const id of stageIds) {
    const stage = ctx.pipeline.stages.get(id);
    if (!stage) {
      errors.push({ stageId: id, message: `unknown stage ${id}` });
      continue;
    }
    const r = computeStaticIngredients(ctx, stage, fingerprints);
    if (r.ok) out.set(id, r.value);
    else errors.push(r.error);
  }
  return errors.length ? err(errors) : ok(out);
}

/** Full ingredients once the upstream output hashes are known (null where an upstream is not up to date). */
export function withUpstream(st: StaticIngredients, outputHashOf: (stageId: string) => TreeHash | null): KeyIngredients {
  // Without a prototype the object starts in V8's dictionary mode: each stage's own input names (a chain's are all
  // different) would otherwise each create a hidden class, half of this function's time at 1000 stages
  // (bench/engine/README.md). Also no inherited `constructor` answers for an input of that name.
  const upstream: Record<string, UpstreamIngredient[]> = Object.create(null) as Record<string, UpstreamIngredient[]>;
  for (const input in st.stage.needs) upstream[input] = (st.stage.needs[input] ?? []).map((id) => ({ stageId: id, outputHash: outputHashOf(id) }));
  return {
    format: KEY_FORMAT,
    stageId: st.stage.id,
    matrix: st.stage.matrix,
    source: st.source,
    params: st.params,
    paramSources: st.paramSources,
    globalParams: st.globalParams,
    upstream,
    external: st.external,
    deps: st.deps,
  };
}

function lookupDotted(root: unknown, dotted: string): unknown {
  let cur: unknown = root;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
