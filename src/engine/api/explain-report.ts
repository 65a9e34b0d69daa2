/**
 * What `wsflow explain` shows about one stage, as data: its state, key and every ingredient of the key, where its
 * code and output are, its last successful and latest executions, and what changed since that success.
 */
import { assessAll } from '../plan/stage-status.js';
import type { StaticIngredients } from '../plan/static-ingredients.js';
import type { EngineContext } from '../plan/engine-context.js';
import { diffIngredients, formatReason, type Reason } from '../plan/reasons.js';
import { keyMaterial, type KeyIngredients } from '../keys/key-ingredients.js';
import { parseIngredients, type ExecutionRow } from '../state/state-store.js';

export interface ExecutionSummary {
  executionId: number;
  runId: number;
  status: string;
  key: string;
  startedAt: string;
  durationMs: number | null;
  host: string;
  executor: string;
  backend: string | null;
  annotations: Record<string, unknown>;
  outputHash: string | null;
  outputBytes: number | null;
  outputFiles: number | null;
  logPath: string | null;
  kindFingerprint: string | null;
  /** run with `run --force` although its result was fresh or cached */
  forced: boolean;
}

function summarize(e: ExecutionRow): ExecutionSummary {
  return {
    executionId: e.id,
    runId: e.run_id,
    status: e.status,
    key: e.key,
    startedAt: new Date(e.started_at).toISOString(),
    durationMs: e.duration_ms,
    host: e.host,
    executor: e.executor,
    backend: e.backend,
    annotations: JSON.parse(e.annotations) as Record<string, unknown>,
    outputHash: e.output_hash,
    outputBytes: e.output_bytes,
    outputFiles: e.output_files,
    logPath: e.log_path,
    kindFingerprint: e.kind_fingerprint,
    forced: e.forced === 1,
  };
}

export interface ExplainReport {
  stage: string;
  state: string;
  key: string | null;
  reasons: (Reason & { text: string })[];
  ingredients: KeyIngredients;
  keyMaterial: ReturnType<typeof keyMaterial> | null;
  kindFingerprint: string | null;
  modulePath: string | null;
  outputs: { type: 'dir'; path: string } | { type: 'paths'; paths: readonly string[] };
  lastSuccess: ExecutionSummary | null;
  latestExecution: ExecutionSummary | null;
  diffFromLastSuccess: (Reason & { text: string })[];
  warnings: string[];
}

/** The report on stage `id`, planned with the stages of `order` (it and what it needs). */
export function explainData(ctx: EngineContext, statics: ReadonlyMap<string, StaticIngredients>, order: readonly string[], id: string): ExplainReport {
  const status = assessAll(ctx, statics, order).get(id);
  const st = statics.get(id);
  if (!status || !st) throw new Error(`no status for ${id}`);
  const lastSuccess = ctx.store.latestSuccessOfStage(id) ?? null;
  const latest = ctx.store.latestExecutionOfStage(id) ?? null;
  const ing = status.ingredients;
  const diff: Reason[] = lastSuccess ? diffIngredients(parseIngredients(lastSuccess), ing) : [];
  return {
    stage: id,
    state: status.state,
    key: status.key,
    reasons: status.reasons.map((r) => ({ ...r, text: formatReason(r) })),
    ingredients: ing,
    keyMaterial: status.key ? keyMaterial(ing) : null,
    kindFingerprint: st.kindFingerprint,
    modulePath: st.resolved?.modulePath ?? null,
    outputs: st.layout,
    lastSuccess: lastSuccess ? summarize(lastSuccess) : null,
    latestExecution: latest ? summarize(latest) : null,
    diffFromLastSuccess: diff.map((r) => ({ ...r, text: formatReason(r) })),
    warnings: status.warnings,
  };
}
