/**
 * The `ablate-delora` stage: build the four variants of dW (stages/lib/dw-ops.ts), score each on the dilemma rows,
 * write dilemmas_per_row.csv (with `variant`), summary.csv (study-ref §12), ablation_info.json, choice_ids.json.
 *
 * α = 0 leaves the weights untouched whatever the variant, so the base rows are scored once and shared by every
 * variant (the reference scores them once per variant, with the same result).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { ABLATION_PER_ROW, ABLATION_SUMMARY, type AblationPerRowRow, type DilemmasPerRowRow } from '../lib/artifacts.js';
import { writeTable } from '../lib/csv.js';
import { ablationVariants, frobeniusNorm } from '../lib/dw-ops.js';
import { mean } from '../lib/numeric.js';
import { ablationSummaryRow } from '../lib/result-rows.js';
import { armsAtCoeffs, siFromRows } from '../lib/si.js';
import { dilemmasFromContext } from '../lib/read-dilemmas.js';
import { loadModelForStage } from '../lib/model/load-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { parseDilemmaParams } from '../lib/steer/dilemma-params.js';
import { choiceIdsFor, scoreDilemmas } from '../lib/steer/dilemmas-eval.js';
import { metricIfFinite, stageFacts, writeChoiceIds } from '../lib/steer/stage-outputs.js';
import { steeringFromInputs, type SteeringMethod } from '../lib/steer/steering.js';
import type { AblateParams } from './params.js';

async function run(ctx: KindContext<AblateParams>): Promise<void> {
  const p = parseDilemmaParams(ctx.params);
  const source = steeringFromInputs(ctx, ctx.params.label);
  if (source === undefined || source.kind !== 'dw') throw new Error(`stage ${ctx.stageId}: ablate-delora needs a "dw" input (a diff stage)`);
  const variants = ctx.params.variants;
  const coeffs = [...ctx.params.coeffs].sort((a, b) => a - b);
  if (!coeffs.includes(0)) throw new Error('coeffs: include 0, the reference of the ablation summary');
  const set = ablationVariants(source.dw, ctx.params.seed);
  const norms = Object.fromEntries(variants.map((v) => [v, Math.sqrt([...set[v].values()].reduce((s, t) => s + frobeniusNorm(t) ** 2, 0))]));
  ctx.log(`${source.method}: ${source.dw.size} tensors, common per-tensor norm c = ${set.common_norm.toPrecision(5)}; global norms ${Object.entries(norms).map(([v, n]) => `${v} ${n.toPrecision(5)}`).join(', ')}`);

  const loaded = await loadModelForStage(ctx);
  const dd = dilemmasFromContext(ctx);
  const ids = choiceIdsFor(loaded.tokenizer, p, (m) => ctx.log(m));
  const steered = coeffs.filter((c) => c !== 0);
  const total = dd.rows.length * (1 + variants.length * steered.length);
  let before = 0;
  const progress = (d: number): void => ctx.progress({ done: before + d, total, unit: 'rows' });
  const score = async (m: SteeringMethod, cs: number[]): Promise<DilemmasPerRowRow[]> => {
    const got = await scoreDilemmas(loaded, dd.rows, m, cs, ids, { params: p, signal: ctx.signal, onProgress: progress, log: (x) => ctx.log(x) });
    before += dd.rows.length * cs.length;
    return got;
  };
  const base = await score(source, [0]);
  const perRow: AblationPerRowRow[] = [];
  const summary = [];
  for (const v of variants) {
    const rows = [...base, ...(await score({ ...source, dw: set[v] }, steered))];
    perRow.push(...rows.map((r) => ({ variant: v, ...r })));
    const label = `${source.method} variant ${v}`;
    const m = siFromRows(armsAtCoeffs(rows, {}, label), { label });
    summary.push(ablationSummaryRow(v, m));
    for (const [k, x] of [['SI', m.SI], ['si_fwd', m.si_fwd], ['si_rev', m.si_rev], ['delta_pos', m.lr_pos - m.lr_ref], ['delta_neg', m.lr_neg - m.lr_ref]] as const) metricIfFinite(ctx, `${v}/${k}`, x);
    for (const [k, x] of [['fix_fwd', m.fix_fwd], ['broke_fwd', m.broke_fwd], ['flip_rev', m.flip_rev], ['counter_rev', m.counter_rev]] as const) if (x >= 0) ctx.metric(`${v}/${k}`, x);
    ctx.log(`${v}: SI ${m.SI.toFixed(2)}, si_fwd ${m.si_fwd.toFixed(3)}, si_rev ${m.si_rev.toFixed(3)}, fix/broke ${m.fix_fwd}/${m.broke_fwd}, flip/counter ${m.flip_rev}/${m.counter_rev}`);
  }
  writeTable(ctx.outDir, ABLATION_PER_ROW, perRow);
  writeTable(ctx.outDir, ABLATION_SUMMARY, summary);
  writeFileSync(
    join(ctx.outDir, 'ablation_info.json'),
    `${JSON.stringify({ method: source.method, source_stage: source.source, seed: ctx.params.seed, n_tensors: source.dw.size, common_norm: set.common_norm, global_norms: norms, rng_note: 'Gaussian draws from the seeded xoshiro generator (src/core/random.ts): same distribution as the study\'s torch generator, not the same bits' }, null, 2)}\n`,
  );
  writeChoiceIds(ctx.outDir, ids, { pmass_at_0: mean(base.map((r) => r.pmass)), n_rows: dd.rows.length, anchor: p.format.anchor, format: p.formatName });
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, loaded.resolved, loaded.backend, dd.info));
}

export const ablateImplementation: KindImplementation<AblateParams> = { run };
