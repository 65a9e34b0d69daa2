/**
 * What every engine operation works on: the expanded pipeline, its resolved stage kinds, the state database,
 * the cache and the hasher.
 */
import { join } from 'node:path';
import type { Pipeline, PlannedStage } from '../../pipeline/types.js';
import type { StageKind } from '../../contract/stage-kind.js';
import type { StateStore } from '../state/state-store.js';
import type { CacheStore } from '../cas/cache-store.js';
import type { FileHasher } from '../keys/file-hasher.js';

export interface ResolvedKind {
  kind: StageKind;
  /** absolute path of a project-local kind module */
  modulePath?: string;
}

export interface KindSource {
  /** resolved kinds by their `uses:` text */
  kinds: ReadonlyMap<string, ResolvedKind>;
  /** the compiled built-in kinds directory (dist/stages), for code fingerprints; absent in unit tests */
  builtinKindsDir?: string;
  /** absolute path of the module exporting `builtinKinds` (dist/stages/index.js), loaded by workers */
  builtinRegistryModule?: string;
}

export interface EngineContext extends KindSource {
  pipeline: Pipeline;
  store: StateStore;
  cache: CacheStore;
  hasher: FileHasher;
}

/** Where a stage's output lives in the project: a kind's output directory, or a cmd stage's declared outs. */
export type OutputLayout = { type: 'dir'; path: string } | { type: 'paths'; paths: readonly string[] };

export function outputLayoutOf(stage: PlannedStage): OutputLayout {
  return stage.source.type === 'cmd' ? { type: 'paths', paths: stage.outs } : { type: 'dir', path: stage.outDir };
}

export function layoutPaths(layout: OutputLayout): readonly string[] {
  return layout.type === 'dir' ? [layout.path] : layout.paths;
}

export function cacheDirOf(projectDir: string): string {
  return join(projectDir, 'cache');
}

export function stateDbPathOf(projectDir: string): string {
  return join(projectDir, 'cache', 'state.db');
}
