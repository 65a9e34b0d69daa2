/**
 * The `calibrate` stage: search α* for one method, audit it on the held-out prompts, write summary.csv,
 * audit.csv, newton_history.csv (v1) or root_history.csv (v2/v3), and copy prompt_refs.csv and the prompt sets
 * from the kl-target stage so the output is complete on its own.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { FILES, KL_AUDIT, KL_AUDIT_V3, KL_NEWTON_HISTORY, KL_PROMPT_REFS, KL_ROOT_HISTORY, KL_SUMMARY, KL_SUMMARY_V3 } from '../lib/artifacts.js';
import { calibrateIllinois, calibrateIllinoisBothSigns, calibrateNewton, type CalibrationPoint } from '../lib/calibration.js';
import { writeTable } from '../lib/csv.js';
import { klAuditRow, klNewtonHistoryRows, klRootHistoryRows, klSummaryRow, klSummaryV3Row } from '../lib/result-rows.js';
import { loadModelForStage } from '../lib/model/load-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import type { KlSettings } from '../lib/steer/kl-measure.js';
import { metricIfFinite, stageFacts } from '../lib/steer/stage-outputs.js';
import { steeringFromInputs } from '../lib/steer/steering.js';
import type { CalibrateParams } from './params.js';
import { describeStats, klMeasurer } from '../lib/steer/kl-measurer.js';
import { klTargetFromContext } from '../lib/steer/kl-target-file.js';

async function run(ctx: KindContext<CalibrateParams>): Promise<void> {
  const method = steeringFromInputs(ctx, ctx.params.label);
  if (method === undefined) throw new Error(`stage ${ctx.stageId}: calibrate needs the method to calibrate: a "dw" input (a diff stage) or a "repe" input`);
  const t = klTargetFromContext(ctx);
  const f = t.file;
  const settings: KlSettings = { version: f.version, nTokens: f.n_tokens, maxLength: f.max_length, batchSize: f.batch_size };
  const loaded = await loadModelForStage(ctx);
  const kctx = { signal: ctx.signal, log: (m: string) => ctx.log(m) };
  ctx.log(`calibrating ${method.method} to p95 = ${f.target.toPrecision(5)} nats (KL ${f.version}, ${t.calibration.length} prompts, from ${t.stageId})`);
  const calib = klMeasurer(loaded, t.calibration, settings, kctx);
  let measured = 0;
  const measure = async (alpha: number) => {
    const s = await calib.measure(method, alpha);
    ctx.progress({ done: ++measured, unit: 'measurements', message: `α = ${alpha.toPrecision(4)}: p95 ${s.p95.toPrecision(4)}` });
    return s;
  };
  const onPoint = (p: CalibrationPoint): void => ctx.log(`  [${p.phase} ${p.iter}] α = ${p.alpha.toPrecision(5)}: ${describeStats(p)}, ratio ${p.ratio.toFixed(3)}`);

  const audit = async (alpha: number) => {
    calib.release();
    const a = klMeasurer(loaded, t.audit, settings, kctx);
    try {
      return await a.measure(method, alpha);
    } finally {
      a.release();
    }
  };
  const targetAuditRow = klAuditRow(f.target_method, 1, f.target_calib, f.target_audit);

  if (f.version === 'v3') {
    const r = await calibrateIllinoisBothSigns(measure, { target: f.target, lo: ctx.params.lo, hi: ctx.params.hi, tol: ctx.params.tol, maxRootIters: ctx.params.max_root_iters, onPoint });
    const auditPos = await audit(r.pos.calibrated_alpha);
    const auditNeg = await audit(r.neg.calibrated_alpha);
    writeTable(ctx.outDir, KL_SUMMARY_V3, [klSummaryV3Row(method.method, r, f.target)]);
    writeTable(ctx.outDir, KL_ROOT_HISTORY, [...klRootHistoryRows(method.method, 'pos', r.pos), ...klRootHistoryRows(method.method, 'neg', r.neg)]);
    const row = (sign: 'pos' | 'neg', alpha: number, cal: { p95_at_calib: number; mean_at_calib: number }, au: typeof auditPos) => {
      const b = klAuditRow(method.method, alpha, { p95: cal.p95_at_calib, mean: cal.mean_at_calib }, au);
      return { method: b.method, sign, alpha, alpha_mag: Math.abs(alpha), p95_calib: b.p95_calib, mean_calib: b.mean_calib, p95_audit: b.p95_audit, mean_audit: b.mean_audit, max_audit: b.max_audit, calib_audit_ratio: b.calib_audit_ratio };
    };
    writeTable(ctx.outDir, KL_AUDIT_V3, [
      { ...targetAuditRow, sign: '', alpha_mag: 1 },
      row('pos', r.pos.calibrated_alpha, r.pos, auditPos),
      row('neg', r.neg.calibrated_alpha, r.neg, auditNeg),
    ]);
    ctx.metric('alpha_pos', r.alpha_pos);
    ctx.metric('alpha_neg', r.alpha_neg);
    metricIfFinite(ctx, 'p95_at_pos', r.pos.p95_at_calib);
    metricIfFinite(ctx, 'p95_at_neg', r.neg.p95_at_calib);
    metricIfFinite(ctx, 'p95_audit_pos', auditPos.p95);
    metricIfFinite(ctx, 'p95_audit_neg', auditNeg.p95);
    ctx.metric('converged', r.pos.converged && r.neg.converged ? 1 : 0);
    ctx.log(`${method.method}: α* = +${r.alpha_pos.toPrecision(4)} / −${r.alpha_neg.toPrecision(4)}`);
  } else {
    const r =
      f.version === 'v1'
        ? await calibrateNewton(measure, { target: f.target, alphaInit: ctx.params.alpha_init, maxIters: ctx.params.max_iters, band: ctx.params.band, onPoint })
        : await calibrateIllinois(measure, { target: f.target, lo: ctx.params.lo, hi: ctx.params.hi, tol: ctx.params.tol, maxRootIters: ctx.params.max_root_iters, onPoint });
    const au = await audit(r.calibrated_alpha);
    writeTable(ctx.outDir, KL_SUMMARY, [klSummaryRow(method.method, r, f.target)]);
    writeTable(ctx.outDir, KL_AUDIT, [targetAuditRow, klAuditRow(method.method, r.calibrated_alpha, { p95: r.p95_at_calib, mean: r.mean_at_calib }, au)]);
    if (f.version === 'v1') writeTable(ctx.outDir, KL_NEWTON_HISTORY, klNewtonHistoryRows(method.method, r));
    else writeTable(ctx.outDir, KL_ROOT_HISTORY, klRootHistoryRows(method.method, 'pos', r));
    ctx.metric('alpha_star', r.calibrated_alpha);
    metricIfFinite(ctx, 'p95_at_calib', r.p95_at_calib);
    metricIfFinite(ctx, 'p95_audit', au.p95);
    ctx.metric('iterations', r.iterations);
    ctx.metric('converged', r.converged ? 1 : 0);
    ctx.log(`${method.method}: α* = ${r.calibrated_alpha.toPrecision(4)} after ${r.iterations} measurement(s)${r.converged ? '' : ' — NOT converged'}; audit ${describeStats(au)}`);
  }
  ctx.metric('target_p95', f.target);
  copyFileSync(join(t.dir, KL_PROMPT_REFS.file), join(ctx.outDir, KL_PROMPT_REFS.file));
  copyFileSync(join(t.dir, FILES.calibrationPrompts), join(ctx.outDir, FILES.calibrationPrompts));
  copyFileSync(join(t.dir, FILES.auditPrompts), join(ctx.outDir, FILES.auditPrompts));
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, loaded.resolved, loaded.backend));
}

export const calibrateImplementation: KindImplementation<CalibrateParams> = { run };
