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
  for (const list of Object.values(ing.upstream)) for (const u of list) if (u.outputHash === null) return false;
  return true;
}

/** The part of the ingredients the key is the hash of (its canonical JSON; `wsflow explain` shows it). */
export function keyMaterial(ing: KeyIngredients): unknown {
  return {
    format: ing.format,
    stageId: ing.stageId,
    matrix: ing.matrix,
    source: ing.source,
    params: ing.params,
    upstream: Object.fromEntries(
      Object.entries(ing.upstream).map(([name, list]) => [name, list.map((u) => [u.stageId, u.outputHash])]),
    ),
    external: externalPairs(ing),
    deps: depPairs(ing),
  };
}

function externalPairs(ing: KeyIngredients): string[][] {
  return [...ing.external].map((e) => [e.label, e.hash]).sort((a, b) => (`${a[0]}\u0000${a[1]}` < `${b[0]}\u0000${b[1]}` ? -1 : 1));
}

function depPairs(ing: KeyIngredients): string[][] {
  return [...ing.deps].map((d) => [d.path, d.hash]).sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : 1));
}

/**
 * `canonicalJson(keyMaterial(ing))`, written directly: the same bytes without building the material object and
 * sorting its keys (status computes 1000 keys at every start). keyMaterial stays the definition;
 * test/engine/keys/keys.test.ts checks that both agree, ingredient by ingredient.
 */
export function keyMaterialJson(ing: KeyIngredients): string {
  // keys in canonicalJson's order (sorted); a field that is undefined is left out, as canonicalJson leaves it out
  // (deps, external and upstream are read as keyMaterial reads them: a row without them throws in both)
  let out = '{';
  const field = (name: string, json: string | undefined): void => {
    if (json === undefined) return;
    out += `${out.length > 1 ? ',' : ''}"${name}":${json}`;
  };
  field('deps', ing.deps.length === 0 ? '[]' : canonicalJson(depPairs(ing)));
  field('external', ing.external.length === 0 ? '[]' : canonicalJson(externalPairs(ing)));
  field('format', ing.format === undefined ? undefined : jsonOf(ing.format));
  field('matrix', ing.matrix === undefined ? undefined : canonicalJson(ing.matrix));
  field('params', ing.params === undefined ? undefined : canonicalJson(ing.params));
  field('source', ing.source === undefined ? undefined : canonicalJson(ing.source));
  field('stageId', ing.stageId === undefined ? undefined : jsonOf(ing.stageId));
  let up = '{';
  for (const name of Object.keys(ing.upstream).sort()) {
    const list = ing.upstream[name];
    if (list === undefined) continue;
    let items = '';
    for (const u of list) items += `${items === '' ? '' : ','}[${jsonOf(u.stageId)},${u.outputHash === null ? 'null' : jsonOf(u.outputHash)}]`;
    up += `${up.length > 1 ? ',' : ''}${JSON.stringify(name)}:[${items}]`;
  }
  field('upstream', `${up}}`);
  return `${out}}`;
}

/** canonicalJson of a value, a string's (JSON.stringify, which canonicalJson uses for strings) without the dispatch */
function jsonOf(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v);
}

export function stageKeyOf(ing: KeyIngredients): StageKey {
  if (!isKeyComplete(ing)) throw new Error(`key of ${ing.stageId} is not known until its upstream stages are up to date`);
  return sha256Hex(keyMaterialJson(ing)) as StageKey;
}
