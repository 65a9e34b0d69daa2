/**
 * The commit of a succeeded execution, in this order: output into the cache (objects), the success mark on the
 * execution row (one statement, the commit point), out/ swapped to the new result, the head record. A crash
 * before the mark leaves nothing that counts as a hit; after it, the next run restores. Also the cmd stages'
 * out handling around an execution (DVC semantics).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { layoutPaths } from '../plan/engine-context.js';
import { listOutputFiles } from '../plan/output-check.js';
import { removeTree } from '../cas/cache-store.js';
import { guardedOutPath } from '../cas/out-guard.js';
import { crashPoint } from '../util/crash-points.js';
import type { TreeHash } from '../keys/hashing.js';
import type { RunScope, ScheduledNode } from './run-types.js';

export interface CommitRequest {
  executionId: number;
  /** the staging directory a kind wrote its output into */
  outDir: string;
  started: number;
  backend: string | null;
  annotations: Record<string, string | number | boolean>;
}

/** A cmd stage exited 0 without writing an out it declared. */
export class OutputMissingError extends Error {}

export function commitOutput(scope: RunScope, n: ScheduledNode, r: CommitRequest): { hash: TreeHash; durationMs: number } {
  const { store, cache, pipeline } = scope.ctx;
  const layout = n.st.layout;
  let stored;
  if (layout.type === 'dir') {
    stored = cache.ingestDirByRename(r.outDir);
  } else {
    for (const p of layout.paths) guardedOutPath(pipeline.projectDir, p);
    const listed = listOutputFiles(pipeline.projectDir, layout);
    if (!listed.ok) throw new OutputMissingError(`the command did not write its declared out ${listed.error}`);
    stored = cache.ingestFilesByCopy(listed.value);
  }
  crashPoint('ingested');
  const previous = store.headExecution(n.id, true);
  const ended = Date.now();
  let bytes = 0;
  for (const f of stored.manifest.files) bytes += f.size;
  store.succeedExecution(r.executionId, {
    outputHash: stored.hash,
    bytes,
    files: stored.manifest.files.length,
    now: ended,
    durationMs: ended - r.started,
    backend: r.backend,
    annotations: r.annotations,
  });
  crashPoint('committed');
  if (layout.type === 'dir') cache.materializeCopy(stored.manifest, guardedOutPath(pipeline.projectDir, layout.path));
  crashPoint('out-written');
  store.setHead(n.id, r.executionId, layoutPaths(layout), Date.now());
  scope.counts.executed++;
  scope.emit({
    type: 'stage-succeeded',
    stageId: n.id,
    executionId: r.executionId,
    durationMs: ended - r.started,
    backend: r.backend,
    outputUnchanged: previous?.output_hash === stored.hash,
  });
  return { hash: stored.hash, durationMs: ended - r.started };
}

/** DVC semantics: declared outs are removed before the command runs (they are in the cache if they mattered). */
export function prepareCmdOuts(projectDir: string, outs: readonly string[]): void {
  for (const p of outs) {
    const abs = guardedOutPath(projectDir, p);
    removeTree(abs);
    mkdirSync(dirname(abs), { recursive: true });
  }
}

export function removePartialOuts(projectDir: string, outs: readonly string[]): void {
  for (const p of outs) {
    try {
      removeTree(guardedOutPath(projectDir, p));
    } catch {
      // an out that now leads outside the project is not ours to remove; the failure already says why
    }
  }
}
