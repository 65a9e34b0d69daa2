/**
 * Everything that goes into a stage's key, stored in full with every execution so that `status` and `explain`
 * can say exactly what changed. The key is the sha256 of the *material* part: display-only facts (where a param
 * came from, the path an external input was found at, sizes) are kept beside it but do not change the key, so a
 * model found under another $HF_HOME still hits the cache.
 */
import type { MatrixValue } from '../../pipeline/types.js';
import { canonicalJson } from './canonical-json.js';
import { sha256Hex, type StageKey, type TreeHash } from './hashing.js';

export const KEY_FORMAT = 'wsflow-key-1';

export type SourceIngredient =
  | { type: 'kind'; name: string; version: string }
  | { type: 'cmd'; cmd: string; outs: string[] };

export interface UpstreamIngredient {
  stageId: string;
  /** output (tree) hash of the upstream execution; null while the upstream is not up to date (status only) */
  outputHash: TreeHash | null;
}

export interface ExternalIngredient {
  label: string;
  /** display only */
  path: string;
  hash: string;
  /** display only */
  size: number;
}

export interface DepIngredient {
  /** project-relative */
  path: string;
  hash: string;
  /** display only */
  size: number;
}

export interface KeyIngredients {
  format: typeof KEY_FORMAT;
  stageId: string;
  matrix: Readonly<Record<string, MatrixValue>>;
  source: SourceIngredient;
  /** the stage's resolved params (kinds: the whole validated `with:` object) */
  params: Readonly<Record<string, unknown>>;
  /** display only: param key → the global param it was interpolated from ("a, b" when several) */
  paramSources: Readonly<Record<string, string>>;
  /** display only: the values of those global params, by dotted name, so reasons can say `param lr 0.1 → 0.05` */
  globalParams?: Readonly<Record<string, unknown>>;
  upstream: Readonly<Record<string, readonly UpstreamIngredient[]>>;
  external: readonly ExternalIngredient[];
  deps: readonly DepIngredient[];
}

/** True when every upstream output hash is known, i.e. the key can be computed. */
export function isKeyComplete(ing: KeyIngredients): boolean {
  for (const input in ing.upstream) for (const u of ing.upstream[input] ?? []) if (u.outputHash === null) return false;
  return true;
}

/** Its keys in sorted order, so that canonicalJson can hand it to JSON.stringify whole (canonical-json.ts). */
export function keyMaterial(ing: KeyIngredients): unknown {
  return {
    deps: [...ing.deps].map((d) => [d.path, d.hash]).sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1)),
    external: [...ing.external]
      .map((e) => [e.label, e.hash])
      .sort((a, b) => (`${a[0]}\u0000${a[1]}` < `${b[0]}\u0000${b[1]}` ? -1 : 1)),
    format: ing.format,
    matrix: ing.matrix,
    params: ing.params,
    source: ing.source,
    stageId: ing.stageId,
    upstream: upstreamMaterial(ing.upstream),
  };
}

/** Prototype-less for the reason given in withUpstream (static-ingredients.ts); names in sorted order, as keyMaterial. */
function upstreamMaterial(upstream: KeyIngredients['upstream']): Record<string, [string, TreeHash | null][]> {
  const out = Object.create(null) as Record<string, [string, TreeHash | null][]>;
  for (const name of Object.keys(upstream).sort()) out[name] = (upstream[name] ?? []).map((u) => [u.stageId, u.outputHash]);
  return out;
}

export function stageKeyOf(ing: KeyIngredients): StageKey {
  const key = keyIfComplete(ing);
  if (key === null) throw new Error(`key of ${ing.stageId} is not known until its upstream stages are up to date`);
  return key;
}

/** The key, or null while an upstream output hash is unknown (one pass for assessStage's both questions). */
export function keyIfComplete(ing: KeyIngredients): StageKey | null {
  return isKeyComplete(ing) ? (sha256Hex(canonicalJson(keyMaterial(ing))) as StageKey) : null;
}
