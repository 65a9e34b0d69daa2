/**
 * `wsflow pull [TARGETS]` and `run --pull`: for each selected stage the lock file records for exactly the key the
 * current pipeline gives it (status's `fresh-by-lock`), its output tree comes from the remote into cache/ (verified
 * by hash), and an execution is recorded for that key, so every later status, run and explain treats it as a
 * result computed here. With `checkout` (pull, as DVC's), those results and any already cached are then copied
 * into out/; `run --pull` leaves that to the run's own restores.
 */
import { hostname } from 'node:os';
import type { Pipeline } from '../../pipeline/types.js';
import { layoutPaths, type KindSource } from '../plan/engine-context.js';
import { selectStages } from '../plan/select-stages.js';
import { computeAllStatic } from '../plan/static-ingredients.js';
import { guardedOutPath } from '../cas/out-guard.js';
import { removeTree } from '../cas/cache-store.js';
import { firstLiveRun } from '../state/leases.js';
import { openProjectForReading, openProjectForWriting } from '../project.js';
import { readLock, stagesOfProfile } from '../lock/lock-file.js';
import { assessAllWithLock, type LockedStatus } from '../lock/lock-status.js';
import { formatReasons } from '../plan/reasons.js';
import type { Remote } from './remote.js';
import { fetchTree, TransferError, zeroCounts, type TransferCounts } from './transfer.js';
import type { PlanFailure } from './push.js';
import type { Result } from '../../contract/result.js';

export interface PullReport {
  remote: string;
  /** stages whose results came from the remote and are now recorded here */
  fetched: string[];
  /** stages copied into out/ (checkout) */
  checkedOut: string[];
  /** already fresh here */
  fresh: string[];
  /** stages the lock does not vouch for: they must run (with status's reasons) */
  notLocked: { stageId: string; reasons: string[] }[];
  /** the project has no wsflow.lock: nothing says what to pull */
  noLock: boolean;
  /** stages whose results could not be fetched, one line each (missing or damaged on the remote) */
  failed: { stageId: string; message: string }[];
  counts: TransferCounts;
}

export type PullFailure = PlanFailure | { type: 'lock'; message: string } | { type: 'busy'; message: string };

export async function pullStages(
  pipeline: Pipeline,
  source: Omit<KindSource, 'kinds'>,
  o: { targets: readonly string[]; checkout: boolean; argv: readonly string[] },
  remote: Remote,
  onStage: (stageId: string) => void = () => undefined,
): Promise<Result<PullReport, PullFailure>> {
  const selection = selectStages(pipeline, o.targets);
  if (!selection.ok) return { ok: false, error: { type: 'selection', message: selection.error } };
  const lock = readLock(pipeline.projectDir);
  if (!lock.ok) return { ok: false, error: { type: 'lock', message: lock.error } };
  const reading = openProjectForReading(pipeline, source);
  let project = reading;
  try {
    const statics = computeAllStatic(reading.ctx, selection.value.order);
    if (!statics.ok) return { ok: false, error: { type: 'plan', errors: statics.error } };
    const locked = lock.value;
    const assessed = assessAllWithLock(reading.ctx, statics.value, selection.value.order, () => ({ ok: true, value: locked ? stagesOfProfile(locked, pipeline.profile) : {} }));
    if (!assessed.ok) return { ok: false, error: { type: 'lock', message: assessed.error } };
    const statuses = assessed.value;
    const report: PullReport = { remote: remote.description, fetched: [], checkedOut: [], fresh: [], notLocked: [], noLock: lock.value === null, failed: [], counts: zeroCounts() };
    const wanted: LockedStatus[] = [];
    for (const id of selection.value.order) {
      const s = statuses.get(id);
      if (!s) continue;
      if (s.state === 'fresh') report.fresh.push(id);
      else if (s.state === 'fresh-by-lock' || s.state === 'cached') wanted.push(s);
      else report.notLocked.push({ stageId: id, reasons: formatReasons(s.reasons) });
    }
    if (wanted.length === 0) return { ok: true, value: report };

    project = openProjectForWriting(reading);
    const { store, cache } = project.ctx;
    const now = Date.now();
    const live = firstLiveRun(store, now);
    if (live) return { ok: false, error: { type: 'busy', message: `run #${live.id} (pid ${live.pid} on ${live.host}) is in progress; pull when it ends` } };
    const runId = store.insertRun({ argv: JSON.stringify(o.argv), profile: pipeline.profile, host: hostname(), pid: process.pid, now });
    const staging = cache.newStagingDir('pull');
    const restorable: { s: LockedStatus; executionId: number }[] = [];
    try {
      for (const s of wanted) {
        if (s.state === 'cached') {
          if (s.hit) restorable.push({ s, executionId: s.hit.id });
          continue;
        }
        const tree = s.outputHash;
        const entry = s.locked;
        if (tree === null || s.key === null || !entry) continue;
        onStage(s.stageId);
        try {
          await fetchTree(cache, remote, tree, staging, report.counts);
        } catch (e) {
          if (!(e instanceof TransferError)) throw e;
          report.failed.push({ stageId: s.stageId, message: e.message });
          continue;
        }
        const st = statics.value.get(s.stageId);
        const t = Date.now();
        const executionId = store.insertExecution({
          runId,
          stageId: s.stageId,
          key: s.key,
          kind: st?.source.type === 'kind' ? st.source.name : 'cmd',
          kindVersion: st?.source.type === 'kind' ? st.source.version : null,
          kindFingerprint: st?.kindFingerprint ?? null,
          ingredients: s.ingredients,
          host: hostname(),
          pid: process.pid,
          executor: 'pull',
          now: t,
          logPath: null,
        });
        store.succeedExecution(executionId, {
          outputHash: tree,
          bytes: entry.output.bytes,
          files: entry.output.files,
          now: t,
          durationMs: 0,
          backend: null,
          annotations: { pulled_from: remote.description },
        });
        report.fetched.push(s.stageId);
        restorable.push({ s, executionId });
      }
      if (o.checkout) {
        for (const { s, executionId } of restorable) {
          const st = statics.value.get(s.stageId);
          const v = s.outputHash === null ? null : cache.verifyTree(s.outputHash);
          if (!st || !v?.ok) continue;
          const layout = st.layout;
          if (layout.type === 'dir') cache.materializeCopy(v.value, guardedOutPath(pipeline.projectDir, layout.path));
          else for (const p of layout.paths) cache.materializeCopy(v.value, guardedOutPath(pipeline.projectDir, p), p);
          store.setHead(s.stageId, executionId, layoutPaths(layout), Date.now());
          report.checkedOut.push(s.stageId);
        }
      }
    } finally {
      store.finishRun(runId, report.failed.length ? 'failed' : 'succeeded', { fetched: report.fetched.length, failed: report.failed.length }, Date.now());
      removeTree(staging);
    }
    return { ok: true, value: report };
  } finally {
    project.close();
  }
}
