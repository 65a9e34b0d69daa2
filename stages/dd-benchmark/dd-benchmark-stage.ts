/**
 * The `dd-benchmark` stage (study-ref §9.7): for each dW input (sorted by adapter), every dilemma row at every coeff
 * on the one loaded model, then
 * - `dilemmas_per_row.csv`: the §9.5 per-row columns (`persona` is "base": no system prompt) plus `adapter`;
 * - `dilemmas_summary.csv`: per (adapter, coeff) `mean_logratio_honesty, std_logratio_honesty, mean_pmass,
 *   frac_low_pmass, n_base_rows_per_coeff, mean_logratio_honesty_0, delta_vs_0, SI, si_fwd, si_rev`, where SI and
 *   its arms are those of the ±|coeff| pair against coeff 0 (§9.6; the same numbers on the −c and +c rows, NaN at 0;
 *   forward-only when −c was not run);
 * and the §9.7 check: n_base_rows_per_coeff = 2·n_dilemmas for every adapter and coeff, or the stage fails.
 */
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { summarizeDilemmas } from '../lib/choice-score.js';
import { writeTable } from '../lib/csv.js';
import { dilemmasFromContext } from '../lib/read-dilemmas.js';
import { loadModelForStage } from '../lib/model/load-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { parseDilemmaParams } from '../lib/steer/dilemma-params.js';
import { choiceIdsFor, scoreDilemmas } from '../lib/steer/dilemmas-eval.js';
import { steeringUnits } from '../lib/steer/si-units.js';
import { metricIfFinite, stageFacts, writeChoiceIds } from '../lib/steer/stage-outputs.js';
import { steeringFromInputs, type SteeringMethod } from '../lib/steer/steering.js';
import { DD_BENCHMARK_PER_ROW, DD_BENCHMARK_SUMMARY, type DdBenchmarkPerRowRow, type DdBenchmarkSummaryRow } from '../lib/artifacts.js';
import type { DdBenchmarkParams } from './params.js';

/** The steering method of each `dw` input, sorted by method name; two inputs with one name are an error. */
function methodsOf(ctx: KindContext<DdBenchmarkParams>): SteeringMethod[] {
  const ups = ctx.inputs['dw'] ?? [];
  if (ups.length === 0) throw new Error(`stage ${ctx.stageId}: dd-benchmark needs at least one "dw" input (diff stages)`);
  const methods = ups.map((u) => {
    const m = steeringFromInputs({ stageId: ctx.stageId, inputs: { dw: [u] } });
    if (m === undefined) throw new Error(`internal: no steering method from ${u.stageId}`);
    return m;
  });
  const seen = new Map<string, string>();
  for (const m of methods) {
    const src = m.kind === 'prompt' ? '' : m.source;
    const other = seen.get(m.method);
    if (other !== undefined) throw new Error(`stage ${ctx.stageId}: ${other} and ${src} are both ${m.method}; the benchmark's rows are per adapter`);
    seen.set(m.method, src);
  }
  return methods.sort((a, b) => (a.method < b.method ? -1 : a.method > b.method ? 1 : 0));
}

async function run(ctx: KindContext<DdBenchmarkParams>): Promise<void> {
  const p = parseDilemmaParams(ctx.params);
  const coeffs = [...ctx.params.coeffs].sort((a, b) => a - b);
  const methods = methodsOf(ctx);
  const loaded = await loadModelForStage(ctx);
  const dd = dilemmasFromContext(ctx);
  const nDilemmas = new Set(dd.rows.map((r) => r.dilemma_idx)).size;
  if (dd.info.synthetic) ctx.log(`dataset ${dd.info.dataset} is SYNTHETIC: these numbers say nothing about the model`);
  const ids = choiceIdsFor(loaded.tokenizer, p, (m) => ctx.log(m));
  const perRow: DdBenchmarkPerRowRow[] = [];
  const summary: DdBenchmarkSummaryRow[] = [];
  const total = methods.length * coeffs.length * dd.rows.length;
  let before = 0;
  for (const m of methods) {
    const rows = await scoreDilemmas(loaded, dd.rows, m, coeffs, ids, { params: p, signal: ctx.signal, onProgress: (d) => ctx.progress({ done: before + d, total, unit: 'rows' }), log: (x) => ctx.log(x) });
    before += coeffs.length * dd.rows.length;
    const adapter = m.kind === 'dw' ? m.info.adapter : m.method;
    for (const r of rows) {
      perRow.push({ idx: r.idx, dilemma_idx: r.dilemma_idx, coeff: r.coeff, logratio: r.logratio, pmass: r.pmass, low_pmass: r.low_pmass, action_type: r.action_type, honesty_label: r.honesty_label, logratio_honesty: r.logratio_honesty, persona: p.systemPrompt === '' ? 'base' : p.systemPrompt, adapter });
    }
    const units = new Map(steeringUnits(m.method, rows, false).map((u) => [u.alpha, u.metrics]));
    for (const s of summarizeDilemmas(rows)) {
      // §9.7's check: one row per dilemma action at every coeff
      if (s.n !== 2 * nDilemmas) throw new Error(`${adapter} at coeff ${s.coeff}: n_base_rows_per_coeff ${s.n} ≠ 2·n_dilemmas (${2 * nDilemmas}); the rows of a dilemma must be its two actions`);
      const si = units.get(Math.abs(s.coeff));
      summary.push({
        adapter,
        coeff: s.coeff,
        mean_logratio_honesty: s.mean_logratio_honesty,
        std_logratio_honesty: s.std_logratio_honesty,
        mean_pmass: s.mean_pmass,
        frac_low_pmass: s.frac_low_pmass,
        n_base_rows_per_coeff: s.n,
        mean_logratio_honesty_0: s.mean_logratio_honesty_0,
        delta_vs_0: s.delta_vs_0,
        SI: s.coeff === 0 || si === undefined ? NaN : si.SI,
        si_fwd: s.coeff === 0 || si === undefined ? NaN : si.si_fwd,
        si_rev: s.coeff === 0 || si === undefined ? NaN : si.si_rev,
      });
      if (s.coeff > 0 && si !== undefined) {
        metricIfFinite(ctx, `${adapter}/SI@${s.coeff}`, si.SI);
        ctx.log(`${adapter} ±${s.coeff}: SI ${si.SI.toFixed(2)} (si_fwd ${si.si_fwd.toFixed(3)}, si_rev ${si.si_rev.toFixed(3)}), delta_vs_0 ${s.delta_vs_0.toFixed(4)}`);
      }
    }
  }
  writeTable(ctx.outDir, DD_BENCHMARK_PER_ROW, perRow);
  writeTable(ctx.outDir, DD_BENCHMARK_SUMMARY, summary);
  writeChoiceIds(ctx.outDir, ids, { n_rows: dd.rows.length, n_dilemmas: nDilemmas, anchor: p.format.anchor, format: p.formatName });
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, loaded.resolved, loaded.backend, dd.info));
}

export const ddBenchmarkImplementation: KindImplementation<DdBenchmarkParams> = { run };
