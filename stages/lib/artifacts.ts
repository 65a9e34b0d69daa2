/**
 * The file names and columns of every stage output, in one place, so that the stage that writes a table and the
 * report that reads it cannot drift apart. Column names and order follow docs/study-ref.md (section
 * numbers below); where the reference leaves a table's columns open, the choice is documented at the table.
 *
 * Each table is a `TableSpec` (stages/lib/csv.ts): `writeTable(dir, SPEC, rows)` / `readTable(dir, SPEC)`, with
 * `RowOf<typeof SPEC.types>` as its row type (exported below as `XxxRow`).
 */
import { table, type RowOf } from './csv.js';

// ------------------------------------------------------------------------------------------ method names

/**
 * Method naming, as the reference study: `dW:<adapter>` for weight steering, `repe` for activation steering,
 * `prompt:<name>` for a system-prompt baseline (`prompt:base` is the empty system prompt).
 */
export type MethodName = `dW:${string}` | 'repe' | `prompt:${string}`;

export type ParsedMethod = { kind: 'dW'; adapter: string } | { kind: 'repe' } | { kind: 'prompt'; prompt: string };

export function dwMethod(adapter: string): MethodName {
  return `dW:${adapter}`;
}

export function promptMethod(name: string): MethodName {
  return `prompt:${name}`;
}

export const REPE_METHOD = 'repe' as const;
export const PROMPT_BASE_METHOD = 'prompt:base' as const;

export function parseMethod(method: string): ParsedMethod {
  if (method === 'repe') return { kind: 'repe' };
  if (method.startsWith('dW:') && method.length > 3) return { kind: 'dW', adapter: method.slice(3) };
  if (method.startsWith('prompt:') && method.length > 7) return { kind: 'prompt', prompt: method.slice(7) };
  throw new Error(`not a method name: ${JSON.stringify(method)} (expected "dW:<adapter>", "repe" or "prompt:<name>")`);
}

// ------------------------------------------------------------------------------------------ non-CSV files

export const FILES = {
  /** diff: dW = τ+ − τ− as float32 safetensors, keys = the base model's parameter names (§4.3) */
  dw: 'dw.safetensors',
  /** repe: per-layer unit directions [L, D] as safetensors, key "directions" (§7.1) */
  repeDirections: 'directions.safetensors',
  /** calibrate: the prompts of the calibration and audit sets, JSON arrays of {cat, suffix, user_msg} (§10.1) */
  calibrationPrompts: 'calibration_prompts.json',
  auditPrompts: 'audit_prompts.json',
  /** eval stages: the Yes/No token ids and strings picked from the vocabulary, and pmass at α = 0 (§9.4) */
  choiceIds: 'choice_ids.json',
} as const;

// ------------------------------------------------------------------------------------------ train (issue 8)

/** One row per logged optimizer step. `lr` is the scheduled learning rate used at that step. */
export const LOSS_CURVE = table('loss_curve.csv', {
  step: 'integer',
  epoch: 'number',
  loss: 'number',
  lr: 'number',
  grad_norm: 'number',
});
export type LossCurveRow = RowOf<typeof LOSS_CURVE.types>;

/** Validation loss at each evaluation step (every 10 steps in the reference, §3.2). */
export const VAL_LOSS = table('val_loss.csv', {
  step: 'integer',
  epoch: 'number',
  val_loss: 'number',
});
export type ValLossRow = RowOf<typeof VAL_LOSS.types>;

// ------------------------------------------------------------------------------------------ diff (§4)

/** Per tensor of dW. `layer` is −1 for a tensor outside `model.layers.<i>.`; `module` e.g. "q_proj". */
export const DIFF_NORMS = table('diff_norms.csv', {
  name: 'string',
  layer: 'integer',
  module: 'string',
  norm_tau_pos: 'number',
  norm_tau_neg: 'number',
  norm_dw: 'number',
});
export type DiffNormsRow = RowOf<typeof DIFF_NORMS.types>;

/**
 * One row: the §4.2 diagnostics over the key intersection, plus what the reference logs next to them
 * (key count, parameter count, ‖τ+‖, ‖τ−‖).
 */
export const DIFF_DIAGNOSTICS = table('diff_diagnostics.csv', {
  n_keys: 'integer',
  n_params: 'integer',
  norm_tau_pos: 'number',
  norm_tau_neg: 'number',
  cos_anti: 'number',
  asymmetry: 'number',
  norm_dW: 'number',
  norm_M: 'number',
  drift_ratio: 'number',
  cos_dW_M: 'number',
});
export type DiffDiagnosticsRow = RowOf<typeof DIFF_DIAGNOSTICS.types>;

// ------------------------------------------------------------------------------------------ daily dilemmas (§9, §10.4)

/** Per row, per (method, coeff): the §10.4 per-row columns. Prompt methods carry coeff 1.0, `prompt:base` 0. */
export const DILEMMAS_PER_ROW = table('dilemmas_per_row.csv', {
  method: 'string',
  coeff: 'number',
  idx: 'integer',
  dilemma_idx: 'integer',
  logratio: 'number',
  pmass: 'number',
  low_pmass: 'boolean',
  action_type: 'string',
  honesty_label: 'number',
  logratio_honesty: 'number',
});
export type DilemmasPerRowRow = RowOf<typeof DILEMMAS_PER_ROW.types>;

/** T2 (§9.7) per row: the §9.5 per-row columns, `persona` (the system prompt, "base" when empty) and `adapter`. */
export const DD_BENCHMARK_PER_ROW = table('dilemmas_per_row.csv', {
  idx: 'integer',
  dilemma_idx: 'integer',
  coeff: 'number',
  logratio: 'number',
  pmass: 'number',
  low_pmass: 'boolean',
  action_type: 'string',
  honesty_label: 'number',
  logratio_honesty: 'number',
  persona: 'string',
  adapter: 'string',
});
export type DdBenchmarkPerRowRow = RowOf<typeof DD_BENCHMARK_PER_ROW.types>;

/** T2 (§9.7) per (adapter, coeff); SI, si_fwd, si_rev are those of the ±|coeff| pair (NaN at coeff 0). */
export const DD_BENCHMARK_SUMMARY = table('dilemmas_summary.csv', {
  adapter: 'string',
  coeff: 'number',
  mean_logratio_honesty: 'number',
  std_logratio_honesty: 'number',
  mean_pmass: 'number',
  frac_low_pmass: 'number',
  n_base_rows_per_coeff: 'integer',
  mean_logratio_honesty_0: 'number',
  delta_vs_0: 'number',
  SI: 'number',
  si_fwd: 'number',
  si_rev: 'number',
});
export type DdBenchmarkSummaryRow = RowOf<typeof DD_BENCHMARK_SUMMARY.types>;

/**
 * Per (method, coeff): §9.5 `summarize` (mean/std of logratio_honesty, std with ddof = 1 as pandas .std()),
 * plus §9.7's reference mean at coeff 0 of the same method and the delta against it.
 */
export const DILEMMAS_SUMMARY = table('dilemmas_summary.csv', {
  method: 'string',
  coeff: 'number',
  mean_logratio_honesty: 'number',
  std_logratio_honesty: 'number',
  mean_pmass: 'number',
  frac_low_pmass: 'number',
  n: 'integer',
  mean_logratio_honesty_0: 'number',
  delta_vs_0: 'number',
});
export type DilemmasSummaryRow = RowOf<typeof DILEMMAS_SUMMARY.types>;

/**
 * Per method: §10.4 `summary.csv`, sorted by SI descending. `alpha` is the +α used (α* or 1.0 for prompts).
 * Prompt (forward-only) rows carry flip_rev = counter_rev = −1 sentinels and si_rev = NaN, as the reference.
 */
export const SI_SUMMARY = table('summary.csv', {
  method: 'string',
  alpha: 'number',
  SI: 'number',
  si_fwd: 'number',
  si_rev: 'number',
  fix_fwd: 'integer',
  broke_fwd: 'integer',
  flip_rev: 'integer',
  counter_rev: 'integer',
  n_cho_ref: 'integer',
  n_rej_ref: 'integer',
  pmass_ratio: 'number',
  lr_pos: 'number',
  lr_zero: 'number',
  lr_neg: 'number',
});
export type SiSummaryRow = RowOf<typeof SI_SUMMARY.types>;

/**
 * Per method: the report's T1 columns (§14.3), sorted by SI_best descending (NaN last). Rates are NaN for zero
 * denominators. For forward-only (prompt) methods si_rev is NaN, flip_rev/counter_rev are the −1 sentinels, and
 * SI_k2/SI_k1 are the forward-only SI at k = 2 / 1 (SI_best = SI_best_intended = SI_k2).
 */
export const SI_TABLE = table('si_table.csv', {
  method: 'string',
  SI_k2: 'number',
  SI_k1: 'number',
  SI_best: 'number',
  SI_best_intended: 'number',
  si_fwd: 'number',
  si_rev: 'number',
  fix_rate: 'number',
  broke_rate: 'number',
  fix_fwd: 'integer',
  broke_fwd: 'integer',
  flip_rev: 'integer',
  counter_rev: 'integer',
  n_cho: 'integer',
  n_rej: 'integer',
  n_seeds: 'integer',
});
export type SiTableRow = RowOf<typeof SI_TABLE.types>;

/**
 * Per (method, action_type): SI restricted to the rows of one action type (F2 onward emits SI_to_do /
 * SI_not_to_do and broke_rate_/broke_count_ per type, §9.6), long format rather than one column per type.
 * All columns are computed on the subset (pmass factor from the subset's mean pmass), except
 * `broke_frac_of_rows`, which is the reference's `broke_rate_<type>`: broken rows / all rows of that type.
 */
export const SI_BY_ACTION_TYPE = table('si_by_action_type.csv', {
  method: 'string',
  action_type: 'string',
  n_rows: 'integer',
  SI: 'number',
  si_fwd: 'number',
  si_rev: 'number',
  fix_fwd: 'integer',
  broke_fwd: 'integer',
  flip_rev: 'integer',
  counter_rev: 'integer',
  n_cho: 'integer',
  n_rej: 'integer',
  broke_rate: 'number',
  broke_frac_of_rows: 'number',
});
export type SiByActionTypeRow = RowOf<typeof SI_BY_ACTION_TYPE.types>;

// ------------------------------------------------------------------------------------------ KL calibration (§10)

/** v1 and v2 summary (§10.1), sorted by calibrated_alpha. */
export const KL_SUMMARY = table('summary.csv', {
  method: 'string',
  calibrated_alpha: 'number',
  p95_at_calib: 'number',
  mean_at_calib: 'number',
  max_at_calib: 'number',
  ratio_at_calib: 'number',
  iterations: 'integer',
  converged: 'boolean',
  target_p95: 'number',
});
export type KlSummaryRow = RowOf<typeof KL_SUMMARY.types>;

/**
 * v1/v2 audit at α* on the audit set (§10.1): the target prompt's row first (alpha 1), then one row per method.
 * calib_audit_ratio = p95_audit / p95_calib (NaN when p95_calib ≤ 0).
 */
export const KL_AUDIT = table('audit.csv', {
  method: 'string',
  alpha: 'number',
  p95_calib: 'number',
  mean_calib: 'number',
  p95_audit: 'number',
  mean_audit: 'number',
  max_audit: 'number',
  calib_audit_ratio: 'number',
});
export type KlAuditRow = RowOf<typeof KL_AUDIT.types>;

/** v1 search history (§10.1): one row per measurement; ratio = p95 / target (1 when target ≤ 0); `iter` from 0. */
export const KL_NEWTON_HISTORY = table('newton_history.csv', {
  method: 'string',
  iter: 'integer',
  alpha: 'number',
  mean: 'number',
  p50: 'number',
  p95: 'number',
  p99: 'number',
  max: 'number',
  n: 'integer',
  ratio: 'number',
});
export type KlNewtonHistoryRow = RowOf<typeof KL_NEWTON_HISTORY.types>;

/**
 * The reference prompts measured at α = 1 on the calibration set (§10.1 names the file; the reference writes
 * `{method, **stats}`): v1 lists the target prompt first, then the other reference prompts.
 */
export const KL_PROMPT_REFS = table('prompt_refs.csv', {
  method: 'string',
  mean: 'number',
  p50: 'number',
  p95: 'number',
  p99: 'number',
  max: 'number',
  n: 'integer',
});
export type KlPromptRefsRow = RowOf<typeof KL_PROMPT_REFS.types>;

/**
 * v2/v3 search history (§10.2 names the file; columns as the reference's v3 history plus `phase`): one row per
 * measurement in order. `sign` is "pos" or "neg" (v2 calibrates "pos" only); `alpha` is signed, `alpha_mag` its
 * magnitude; `phase` is "mid" (the first point), "bracket" (doubling/halving) or "illinois"; `iter` from 0;
 * ratio = p95 / target.
 */
export const KL_ROOT_HISTORY = table('root_history.csv', {
  method: 'string',
  sign: 'string',
  iter: 'integer',
  phase: 'string',
  alpha: 'number',
  alpha_mag: 'number',
  mean: 'number',
  p50: 'number',
  p95: 'number',
  p99: 'number',
  max: 'number',
  n: 'integer',
  ratio: 'number',
});
export type KlRootHistoryRow = RowOf<typeof KL_ROOT_HISTORY.types>;

/** v3 summary (§10.3): each sign calibrated separately; calibrated_alpha = alpha_pos (α magnitudes, both > 0). */
export const KL_SUMMARY_V3 = table('summary.csv', {
  method: 'string',
  alpha_pos: 'number',
  alpha_neg: 'number',
  calibrated_alpha: 'number',
  p95_at_pos: 'number',
  p95_at_neg: 'number',
  mean_at_pos: 'number',
  mean_at_neg: 'number',
  max_at_pos: 'number',
  max_at_neg: 'number',
  ratio_at_pos: 'number',
  ratio_at_neg: 'number',
  iterations_pos: 'integer',
  iterations_neg: 'integer',
  converged_pos: 'boolean',
  converged_neg: 'boolean',
  target_p95: 'number',
});
export type KlSummaryV3Row = RowOf<typeof KL_SUMMARY_V3.types>;

/**
 * v3 audit: the reference prompts first (sign "", alpha 1, alpha_mag 1), then one row per (method, sign) with
 * sign "pos"/"neg", alpha the signed α applied and alpha_mag its magnitude.
 */
export const KL_AUDIT_V3 = table('audit.csv', {
  method: 'string',
  sign: 'string',
  alpha: 'number',
  alpha_mag: 'number',
  p95_calib: 'number',
  mean_calib: 'number',
  p95_audit: 'number',
  mean_audit: 'number',
  max_audit: 'number',
  calib_audit_ratio: 'number',
});
export type KlAuditV3Row = RowOf<typeof KL_AUDIT_V3.types>;

// ------------------------------------------------------------------------------------------ IID claims (§11)

/** Per (method, coeff, claim): §11 per-row columns with `method` in front. */
export const IID_PER_ROW = table('iid_per_row.csv', {
  method: 'string',
  coeff: 'number',
  claim_idx: 'integer',
  logratio: 'number',
  pmass: 'number',
});
export type IidPerRowRow = RowOf<typeof IID_PER_ROW.types>;

/**
 * Per (method, coeff): §11 `eval_summary.csv` columns with `method` in front and the report's "shift vs base"
 * (mean_logratio at this coeff − at coeff 0) at the end. std is the sample std (ddof = 1).
 */
export const IID_SUMMARY = table('eval_summary.csv', {
  method: 'string',
  coeff: 'number',
  mean_logratio: 'number',
  std_logratio: 'number',
  mean_pmass: 'number',
  n: 'integer',
  shift_vs_0: 'number',
});
export type IidSummaryRow = RowOf<typeof IID_SUMMARY.types>;

// ------------------------------------------------------------------------------------------ DeLoRA ablation (§12)

export const ABLATION_VARIANTS = ['full', 'dir_only', 'mag_only', 'random_norm'] as const;
export type AblationVariant = (typeof ABLATION_VARIANTS)[number];

/** §12 per-row: the DD per-row columns plus `variant` (first). */
export const ABLATION_PER_ROW = table('dilemmas_per_row.csv', {
  variant: 'string',
  ...DILEMMAS_PER_ROW.types,
});
export type AblationPerRowRow = RowOf<typeof ABLATION_PER_ROW.types>;

/** §12 summary; deltas are mean logratio_honesty at ±1 minus at 0. */
export const ABLATION_SUMMARY = table('summary.csv', {
  variant: 'string',
  SI: 'number',
  si_fwd: 'number',
  si_rev: 'number',
  fix_fwd: 'integer',
  broke_fwd: 'integer',
  flip_rev: 'integer',
  counter_rev: 'integer',
  lr_at_zero: 'number',
  delta_pos: 'number',
  delta_neg: 'number',
});
export type AblationSummaryRow = RowOf<typeof ABLATION_SUMMARY.types>;

// ------------------------------------------------------------------------------------------ subspace analysis (§6)

/** §6 per tensor: SVD-of-W alignment for every 2-D dW tensor; the weak-readout columns only for o_proj/down_proj (NaN elsewhere). */
export const SUBSPACE_PER_LAYER = table('subspace_per_layer.csv', {
  name: 'string',
  layer_idx: 'integer',
  kind: 'string',
  shape: 'string',
  norm: 'number',
  k: 'integer',
  r: 'integer',
  energy_top: 'number',
  null_top: 'number',
  ratio_top: 'number',
  energy_weak: 'number',
  null_weak: 'number',
  ratio_weak: 'number',
});
export type SubspacePerLayerRow = RowOf<typeof SUBSPACE_PER_LAYER.types>;

/** §6 summary, one row per module kind (NaNs skipped as pandas does; std with ddof 1). */
export const SUBSPACE_SUMMARY = table('subspace_summary.csv', {
  kind: 'string',
  mean_ratio_top: 'number',
  std_ratio_top: 'number',
  mean_ratio_weak: 'number',
  std_ratio_weak: 'number',
  mean_norm: 'number',
  n: 'integer',
});
export type SubspaceSummaryRow = RowOf<typeof SUBSPACE_SUMMARY.types>;
