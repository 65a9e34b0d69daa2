/**
 * The `kl-target` stage: select the prompt sets, measure the target prompt (calibration and audit sets) and the
 * reference prompts, and write kl_target.json, prompt_refs.csv, calibration_prompts.json, audit_prompts.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { FILES, KL_PROMPT_REFS, promptMethod } from '../lib/artifacts.js';
import { writeTable } from '../lib/csv.js';
import { promptText } from '../lib/prompts.js';
import { loadQuestionPool, selectKlPrompts, type QuestionEntry } from '../lib/question-pool.js';
import { klPromptRefsRow } from '../lib/result-rows.js';
import { loadModelForStage } from '../lib/model/load-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import type { KlSettings } from '../lib/steer/kl-measure.js';
import { metricIfFinite, stageFacts } from '../lib/steer/stage-outputs.js';
import type { SteeringMethod } from '../lib/steer/steering.js';
import { questionsPath } from '../lib/questions-param.js';
import { describeStats, klMeasurer } from '../lib/steer/kl-measurer.js';
import { KL_TARGET_FILE, type KlTargetFile } from '../lib/steer/kl-target-file.js';
import type { KlTargetParams } from './params.js';

/** Per version: [n_tokens, max_length, constant target (null = measured)] (study-ref §10.1–10.3). */
const KL_VERSION_DEFAULTS = {
  v1: { nTokens: 20, maxLength: 256, target: null },
  v2: { nTokens: 20, maxLength: 512, target: 1.0 },
  v3: { nTokens: 50, maxLength: 512, target: 0.5 },
} as const;

function plain(e: QuestionEntry): QuestionEntry {
  return { cat: e.cat, suffix: e.suffix, user_msg: e.user_msg };
}

async function run(ctx: KindContext<KlTargetParams>): Promise<void> {
  const version = ctx.params.version;
  const d = KL_VERSION_DEFAULTS[version];
  const settings: KlSettings = {
    version,
    nTokens: ctx.params.n_tokens ?? d.nTokens,
    maxLength: ctx.params.max_length ?? d.maxLength,
    batchSize: ctx.params.batch_size,
  };
  const setName = ctx.params.prompt_set;
  const targetName = ctx.params.target_prompt;
  const refNames = ctx.params.reference_prompts;
  const methodOf = (name: string): SteeringMethod => ({ kind: 'prompt', method: promptMethod(name), systemPrompt: promptText(name, setName) });
  const targetMethod = methodOf(targetName);
  const refMethods = refNames.map(methodOf);

  const pool = loadQuestionPool(questionsPath(ctx.params, ctx.projectDir), { thinking: false });
  const seed = ctx.params.seed;
  const sets = selectKlPrompts(pool, { nCalib: ctx.params.n_calib, nAudit: ctx.params.n_audit, seed });
  const loaded = await loadModelForStage(ctx);
  const kctx = { signal: ctx.signal, log: (m: string) => ctx.log(m) };
  ctx.log(`KL ${version}: ${settings.version === 'v1' ? 'teacher-forced over the last' : 'trajectory over'} ${settings.nTokens} tokens; ${sets.calibration.length} calibration and ${sets.audit.length} audit prompts`);

  const total = 2 + refMethods.length;
  const calib = klMeasurer(loaded, sets.calibration, settings, kctx);
  const targetCalib = await calib.measure(targetMethod, 1);
  ctx.progress({ done: 1, total, unit: 'measurements' });
  ctx.log(`${targetMethod.method} on the calibration set: ${describeStats(targetCalib)}`);
  const refs = [klPromptRefsRow(targetMethod.method, targetCalib)];
  for (const [i, m] of refMethods.entries()) {
    const s = await calib.measure(m, 1);
    refs.push(klPromptRefsRow(m.method, s));
    ctx.progress({ done: 2 + i, total, unit: 'measurements' });
    ctx.log(`${m.method}: ${describeStats(s)}`);
    metricIfFinite(ctx, `p95/${m.method}`, s.p95);
  }
  calib.release();
  const audit = klMeasurer(loaded, sets.audit, settings, kctx);
  const targetAudit = await audit.measure(targetMethod, 1);
  audit.release();
  ctx.progress({ done: total, total, unit: 'measurements' });
  ctx.log(`${targetMethod.method} on the audit set: ${describeStats(targetAudit)}`);

  const fixed = ctx.params.target ?? d.target;
  const target = fixed ?? targetCalib.p95;
  if (!(Number.isFinite(target) && target > 0)) {
    throw new Error(`the KL target must be positive: ${targetMethod.method} has p95 ${target} on the calibration set; set \`target\` explicitly`);
  }
  const file: KlTargetFile = {
    version,
    target,
    target_source: fixed === null ? `p95 of ${targetMethod.method} at α = 1 on the calibration set` : `constant ${fixed} nats`,
    target_method: targetMethod.method,
    n_tokens: settings.nTokens,
    max_length: settings.maxLength,
    batch_size: settings.batchSize,
    prompt_set: setName,
    seed,
    n_calib: sets.calibration.length,
    n_audit: sets.audit.length,
    target_calib: targetCalib,
    target_audit: targetAudit,
  };
  writeFileSync(join(ctx.outDir, KL_TARGET_FILE), `${JSON.stringify(file, null, 2)}\n`);
  writeFileSync(join(ctx.outDir, FILES.calibrationPrompts), `${JSON.stringify(sets.calibration.map(plain), null, 2)}\n`);
  writeFileSync(join(ctx.outDir, FILES.auditPrompts), `${JSON.stringify(sets.audit.map(plain), null, 2)}\n`);
  writeTable(ctx.outDir, KL_PROMPT_REFS, refs);
  ctx.log(`KL target: ${target.toPrecision(5)} nats (${file.target_source})`);
  ctx.metric('target_p95', target);
  metricIfFinite(ctx, `p95/${targetMethod.method}`, targetCalib.p95);
  metricIfFinite(ctx, 'target_audit_p95', targetAudit.p95);
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, loaded.resolved, loaded.backend));
}

export const klTargetImplementation: KindImplementation<KlTargetParams> = { run };
