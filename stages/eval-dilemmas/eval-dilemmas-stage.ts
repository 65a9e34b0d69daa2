/**
 * The `eval-dilemmas` stage: per-row scores, the per-(method, coeff) summary, the SI tables and metrics.
 *
 * Outputs (stages/lib/artifacts.ts): dilemmas_per_row.csv, dilemmas_summary.csv, summary.csv (study-ref §10.4, one row per
 * SI pair), si_table.csv (the report's T1 row per method/family), si_by_action_type.csv, choice_ids.json,
 * provenance.json.
 */
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { DILEMMAS_PER_ROW, DILEMMAS_SUMMARY, PROMPT_BASE_METHOD, promptMethod, SI_BY_ACTION_TYPE, SI_SUMMARY, SI_TABLE, type DilemmasPerRowRow } from '../lib/artifacts.js';
import { summarizeDilemmas } from '../lib/choice-score.js';
import { writeTable } from '../lib/csv.js';
import { optionalInput } from '../lib/stage-inputs.js';
import { mean } from '../lib/numeric.js';
import { promptText, type PromptSetName } from '../lib/prompts.js';
import { siByActionTypeRows, siSummaryRow, siSummaryTable, siTable, siTableRow } from '../lib/result-rows.js';
import { readCalibratedAlpha } from '../lib/read-calibration.js';
import { dilemmasFromContext } from '../lib/read-dilemmas.js';
import { loadModelForStage } from '../lib/model/load-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { parseDilemmaParams } from '../lib/steer/dilemma-params.js';
import { choiceIdsFor, scoreDilemmas } from '../lib/steer/dilemmas-eval.js';
import { mainUnit, promptUnits, steeringUnits, type SiUnit } from '../lib/steer/si-units.js';
import { metricIfFinite, recordSiMetrics, stageFacts, writeChoiceIds } from '../lib/steer/stage-outputs.js';
import { steeringFromInputs, type SteeringMethod } from '../lib/steer/steering.js';
import type { EvalDilemmasParams } from './params.js';

interface Plan {
  method: SteeringMethod;
  coeffs: number[];
}

function promptPlans(setName: PromptSetName, names: readonly string[]): Plan[] {
  return names.map((name) => ({
    method: { kind: 'prompt', method: promptMethod(name), systemPrompt: promptText(name, setName) },
    // study-ref §8: a prompt is its own α = 1; the empty system prompt is the shared α = 0 reference
    coeffs: [name === 'base' ? 0 : 1],
  }));
}

async function run(ctx: KindContext<EvalDilemmasParams>): Promise<void> {
  const p = parseDilemmaParams(ctx.params);
  const label = ctx.params.label ?? null;
  const steering = steeringFromInputs(ctx, label);
  const calUp = optionalInput(ctx, 'calibration', 'a calibrate stage of the same method');
  let plans: Plan[];
  let calibrated = false;
  if (steering === undefined) {
    if (calUp !== undefined) throw new Error(`stage ${ctx.stageId}: a "calibration" input needs the method it calibrates (a "dw" or "repe" input)`);
    plans = promptPlans(ctx.params.prompt_set, ctx.params.prompts);
  } else if (calUp !== undefined) {
    const a = readCalibratedAlpha(calUp.dir, steering.method);
    ctx.log(`${steering.method}: calibrated α* = +${a.alphaPos} / −${a.alphaNeg} from ${calUp.stageId}${a.converged ? '' : ' (the search did NOT converge)'}`);
    plans = [{ method: steering, coeffs: [-a.alphaNeg, 0, a.alphaPos] }];
    calibrated = true;
    ctx.metric('alpha_pos', a.alphaPos);
    ctx.metric('alpha_neg', a.alphaNeg);
  } else {
    plans = [{ method: steering, coeffs: [...ctx.params.coeffs].sort((x, y) => x - y) }];
  }

  const loaded = await loadModelForStage(ctx);
  const dd = dilemmasFromContext(ctx);
  if (dd.info.synthetic) ctx.log(`dataset ${dd.info.dataset} is SYNTHETIC: these numbers say nothing about the model`);
  const ids = choiceIdsFor(loaded.tokenizer, p, (m) => ctx.log(m));
  const total = dd.rows.length * plans.reduce((n, pl) => n + pl.coeffs.length, 0);
  let before = 0;
  const rows: DilemmasPerRowRow[] = [];
  for (const plan of plans) {
    const got = await scoreDilemmas(loaded, dd.rows, plan.method, plan.coeffs, ids, {
      params: p,
      signal: ctx.signal,
      onProgress: (d) => ctx.progress({ done: before + d, total, unit: 'rows' }),
      log: (m) => ctx.log(m),
    });
    before += dd.rows.length * plan.coeffs.length;
    rows.push(...got);
  }

  // SI units: a steering method's ±α pairs, or each prompt forward-only plus the paired families
  const units: SiUnit[] = steering === undefined ? promptUnits(rows) : steeringUnits(steering.method, rows, calibrated);
  const summary = summarizeDilemmas(rows);
  const refRows = rows.filter((r) => r.coeff === 0 && (steering !== undefined || r.method === PROMPT_BASE_METHOD));
  const pmassAt0 = refRows.length > 0 ? mean(refRows.map((r) => r.pmass)) : NaN;

  writeTable(ctx.outDir, DILEMMAS_PER_ROW, rows);
  writeTable(ctx.outDir, DILEMMAS_SUMMARY, summary);
  // study-ref §10.4 summary: one row per method and α pair (prompt families are report rows, not methods)
  const summaryUnits = steering === undefined ? units.filter((u) => plans.some((pl) => pl.method.method === u.name)) : units;
  writeTable(ctx.outDir, SI_SUMMARY, siSummaryTable(summaryUnits.map((u) => siSummaryRow(u.name, u.alpha, u.metrics))));
  const tableUnits = steering === undefined ? units : ([mainUnit(units)].filter((u) => u !== undefined) as SiUnit[]);
  writeTable(ctx.outDir, SI_TABLE, siTable(tableUnits.map((u) => siTableRow(u.name, u.metrics))));
  writeTable(ctx.outDir, SI_BY_ACTION_TYPE, tableUnits.flatMap((u) => siByActionTypeRows(u.name, u.byActionType)));
  writeChoiceIds(ctx.outDir, ids, { pmass_at_0: pmassAt0, n_rows: dd.rows.length, anchor: p.format.anchor, format: p.formatName });

  ctx.log(`pmass at α = 0: ${pmassAt0.toFixed(4)} (Qwen3-0.6B in the study: ≈0.94)`);
  metricIfFinite(ctx, 'pmass_at_0', pmassAt0);
  for (const s of summary) metricIfFinite(ctx, steering === undefined ? `${s.method}/mean_lr@${s.coeff}` : `mean_lr@${s.coeff}`, s.mean_logratio_honesty);
  for (const u of tableUnits) {
    recordSiMetrics(ctx, u, steering === undefined ? u.name : null);
    ctx.log(`${u.name} (α=${u.alpha}): SI_k2 ${u.metrics.SI_k2.toFixed(2)}, SI_k1 ${u.metrics.SI_k1.toFixed(2)}, SI_best ${u.metrics.SI_best.toFixed(2)}, fix ${u.metrics.fix_fwd}/${u.metrics.n_rej}, broke ${u.metrics.broke_fwd}/${u.metrics.n_cho}`);
  }
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, loaded.resolved, loaded.backend, dd.info));
}

export const evalDilemmasImplementation: KindImplementation<EvalDilemmasParams> = { run };
