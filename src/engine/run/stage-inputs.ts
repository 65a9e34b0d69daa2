/**
 * The upstream outputs a stage reads, as immutable trees inside the cache, with the executions that made them.
 */
import { join } from 'node:path';
import type { UpstreamOutput } from '../../contract/stage-kind.js';
import type { ExecutionRow } from '../state/state-store.js';
import type { TreeEntry } from '../keys/tree-manifest.js';
import type { RunScope, ScheduledNode } from './run-types.js';

export function inputsOf(scope: RunScope, n: ScheduledNode): Record<string, UpstreamOutput[]> {
  const { cache, store, pipeline } = scope.ctx;
  const inputs: Record<string, UpstreamOutput[]> = {};
  for (const [name, ids] of Object.entries(n.stage.needs)) {
    inputs[name] = ids.map((id) => {
      const up = scope.nodes.get(id);
      const hash = up?.outputHash;
      if (!up || !hash) throw new Error(`upstream ${id} of ${n.id} has no output`);
      const manifest = cache.readManifest(hash);
      if (!manifest) throw new Error(`output of ${id} vanished from the cache`);
      const producer = up.producer === null ? undefined : store.getExecution(up.producer);
      // a damaged object is stored again from the upstream's copy in the project, if that copy has its bytes
      const projectCopy = (f: TreeEntry): string =>
        up.st.layout.type === 'dir' ? join(pipeline.projectDir, up.st.layout.path, f.path) : join(pipeline.projectDir, f.path);
      return { stageId: id, matrix: up.stage.matrix, dir: cache.materializeTree(hash, manifest, projectCopy), ...(producer ? provenanceOf(producer) : {}) };
    });
  }
  return inputs;
}

/** What a stage learns about the execution that produced one of its inputs (UpstreamOutput's provenance fields). */
export function provenanceOf(e: ExecutionRow): Pick<UpstreamOutput, 'key' | 'runId' | 'executionId' | 'finishedAt' | 'host' | 'annotations'> {
  let annotations: Record<string, string | number | boolean> = {};
  try {
    annotations = JSON.parse(e.annotations) as Record<string, string | number | boolean>;
  } catch {
    // a damaged column costs the annotations, not the run
  }
  return {
    key: e.key,
    runId: e.run_id,
    executionId: e.id,
    finishedAt: new Date(e.ended_at ?? e.started_at).toISOString(),
    host: e.host,
    annotations,
  };
}
