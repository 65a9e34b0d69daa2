/**
 * Between a stage's key ingredients and its lock entry: an entry is the ingredients without what names one machine
 * (an external file's absolute path) plus the output, and it turns back into ingredients so status can diff the
 * current stage against it with the same reasons it gives against a recorded execution.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { KEY_FORMAT, type ExternalIngredient, type KeyIngredients } from '../keys/key-ingredients.js';
import type { StageKey, TreeHash } from '../keys/hashing.js';
import type { LockEntry, LockedExternal, LockedUpstream } from './lock-file.js';

export function lockEntryOf(
  ing: KeyIngredients,
  key: StageKey,
  output: { hash: TreeHash; files: number; bytes: number },
  projectDir: string,
): LockEntry {
  // prototype-less for the reason given in withUpstream (src/engine/plan/static-ingredients.ts)
  const upstream = Object.create(null) as Record<string, LockedUpstream[]>;
  for (const [input, list] of Object.entries(ing.upstream)) {
    upstream[input] = list.map((u) => {
      if (u.outputHash === null) throw new Error(`lock entry of ${ing.stageId}: upstream ${u.stageId} has no output`);
      return { stage: u.stageId, output: u.outputHash };
    });
  }
  const entry: LockEntry = {
    key,
    source: ing.source,
    matrix: ing.matrix,
    params: ing.params,
    paramSources: ing.paramSources,
    upstream,
    external: ing.external.map((e) => lockedExternal(e, projectDir)),
    deps: ing.deps,
    output,
  };
  if (ing.globalParams !== undefined) entry.globalParams = ing.globalParams;
  return entry;
}

function lockedExternal(e: ExternalIngredient, projectDir: string): LockedExternal {
  const rel = isAbsolute(e.path) ? relative(projectDir, e.path) : e.path;
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  return inside ? { label: e.label, hash: e.hash, size: e.size, path: rel.split(sep).join('/') } : { label: e.label, hash: e.hash, size: e.size };
}

/** The entry as the ingredients it was computed from (an external path it does not hold reads as its label). */
export function ingredientsOfEntry(stageId: string, e: LockEntry): KeyIngredients {
  const upstream: Record<string, { stageId: string; outputHash: TreeHash }[]> = {};
  for (const [input, list] of Object.entries(e.upstream)) upstream[input] = list.map((u) => ({ stageId: u.stage, outputHash: u.output }));
  const ing: KeyIngredients = {
    format: KEY_FORMAT,
    stageId,
    matrix: e.matrix,
    source: e.source,
    params: e.params,
    paramSources: e.paramSources,
    upstream,
    external: e.external.map((x) => ({ label: x.label, hash: x.hash, size: x.size, path: x.path ?? x.label })),
    deps: e.deps,
  };
  if (e.globalParams !== undefined) ing.globalParams = e.globalParams;
  return ing;
}
