/**
 * A cache hit: copy the cached result into out/ and record it as what out/ holds. A damaged object found on the
 * way is evicted (with every cached tree sharing it), and the stage runs instead.
 */
import { layoutPaths } from '../plan/engine-context.js';
import type { StageStatus } from '../plan/stage-status.js';
import { CorruptObjectError } from '../cas/cache-store.js';
import { evictCorruptObject } from '../cas/evict-corrupt.js';
import { guardedOutPath } from '../cas/out-guard.js';
import { crashPoint } from '../util/crash-points.js';
import type { TreeManifest } from '../keys/tree-manifest.js';
import type { Done, RunScope, ScheduledNode } from './run-types.js';

/** null when the cache entry is unusable. */
export function restoreOutput(scope: RunScope, n: ScheduledNode, status: StageStatus): Done | null {
  const { cache, store } = scope.ctx;
  const hit = status.hit;
  if (!hit?.output_hash) return null;
  const v = cache.verifyTree(hit.output_hash);
  if (!v.ok) return null;
  try {
    materialize(scope, n, v.value);
  } catch (err) {
    if (!(err instanceof CorruptObjectError)) throw err;
    const evicted = evictCorruptObject(store, cache, err.hash);
    scope.emit({
      type: 'warning',
      stageId: n.id,
      message:
        `${err.message}: evicted it (and ${evicted.trees} cached tree${evicted.trees === 1 ? '' : 's'} sharing it; ` +
        `${evicted.executions} execution${evicted.executions === 1 ? '' : 's'} no longer restorable); running the stage again`,
    });
    return null;
  }
  crashPoint('out-written');
  store.setHead(n.id, hit.id, layoutPaths(n.st.layout), Date.now());
  scope.counts.restored++;
  scope.emit({
    type: 'stage-restored',
    stageId: n.id,
    fromRunId: hit.run_id,
    fromExecutionId: hit.id,
    producedAt: hit.ended_at ?? hit.started_at,
    savedMs: hit.duration_ms ?? 0,
    reasons: status.reasons,
  });
  return { outcome: 'restored', outputHash: hit.output_hash, executionId: hit.id };
}

function materialize(scope: RunScope, n: ScheduledNode, manifest: TreeManifest): void {
  const { cache, pipeline } = scope.ctx;
  const layout = n.st.layout;
  if (layout.type === 'dir') cache.materializeCopy(manifest, guardedOutPath(pipeline.projectDir, layout.path));
  else for (const p of layout.paths) cache.materializeCopy(manifest, guardedOutPath(pipeline.projectDir, p), p);
}
