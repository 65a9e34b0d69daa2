/**
 * The `eval-iid` stage: per-claim scores (iid_per_row.csv), the per-coeff summary with the shift vs α = 0
 * (eval_summary.csv), the Yes/No ids (choice_ids.json), and mean_lr / shift / spread as metrics.
 */
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { IID_PER_ROW, IID_SUMMARY, type IidPerRowRow } from '../lib/artifacts.js';
import { choiceIds } from '../lib/choice-ids.js';
import { replicateHeadline, scoreChoiceFromLogits, summarizeIid } from '../lib/choice-score.js';
import { writeTable } from '../lib/csv.js';
import { mean } from '../lib/numeric.js';
import { iidConversation } from '../lib/prompts.js';
import { iidPrompt } from '../lib/iid-claims.js';
import { iidSummaryRow } from '../lib/result-rows.js';
import { loadModelForStage } from '../lib/model/load-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { encodeContinued } from '../lib/steer/chat-inputs.js';
import { describePrompt } from '../lib/steer/dilemmas-eval.js';
import { forEachLastLogits } from '../lib/steer/model-batches.js';
import { metricIfFinite, stageFacts, writeChoiceIds } from '../lib/steer/stage-outputs.js';
import { steeringFromInputs, withSteering } from '../lib/steer/steering.js';
import type { EvalIidParams } from './params.js';

async function run(ctx: KindContext<EvalIidParams>): Promise<void> {
  const method = steeringFromInputs(ctx, ctx.params.label);
  if (method === undefined) throw new Error(`stage ${ctx.stageId}: eval-iid needs a steering method: a "dw" input (a diff stage) or a "repe" input`);
  const coeffs = [...ctx.params.coeffs].sort((a, b) => a - b);
  const prompt = iidPrompt(ctx.projectDir, ctx.params.behavior, ctx.params.n_held_out);
  if (!prompt.ok) throw new Error(prompt.error);
  const claims = prompt.value.claims;
  const loaded = await loadModelForStage(ctx);
  const tok = loaded.tokenizer;
  const ids = choiceIds(tok.getVocab(), { rule: ctx.params.choice_rule });
  const seqs = claims.map((c) => encodeContinued(tok, iidConversation(c, prompt.value), ctx.params.max_length).ids);
  ctx.log(`${method.method}: ${claims.length} held-out claims; prompt of claim 0: ${describePrompt(tok, seqs[0] as number[])}`);
  const rows: IidPerRowRow[] = [];
  const total = claims.length * coeffs.length;
  for (const [ci, coeff] of coeffs.entries()) {
    const got: IidPerRowRow[] = new Array<IidPerRowRow>(claims.length);
    await withSteering(loaded.model, method, coeff, (forward) =>
      forEachLastLogits(loaded.model, seqs, { batchSize: ctx.params.batch_size, forward, signal: ctx.signal, onProgress: (d) => ctx.progress({ done: ci * claims.length + d, total, unit: 'claims' }) }, (i, logits) => {
        const s = scoreChoiceFromLogits(logits, ids);
        got[i] = { method: method.method, coeff, claim_idx: i, logratio: s.logratio, pmass: s.pmass };
      }),
      (m) => ctx.log(m),
    );
    rows.push(...got);
  }
  const summary = summarizeIid(rows);
  writeTable(ctx.outDir, IID_PER_ROW, rows);
  writeTable(ctx.outDir, IID_SUMMARY, summary.map(iidSummaryRow));
  const at0 = rows.filter((r) => r.coeff === 0);
  writeChoiceIds(ctx.outDir, ids, { pmass_at_0: at0.length > 0 ? mean(at0.map((r) => r.pmass)) : null, n_claims: claims.length });
  for (const s of summary) {
    metricIfFinite(ctx, `mean_lr@${s.coeff}`, s.mean_logratio);
    if (s.coeff !== 0) metricIfFinite(ctx, `shift@${s.coeff}`, s.shift_vs_0);
    ctx.log(`${method.method} @ ${s.coeff}: mean_lr ${s.mean_logratio.toFixed(4)} ± ${s.std_logratio.toFixed(4)}, shift ${s.shift_vs_0.toFixed(4)}, pmass ${s.mean_pmass.toFixed(4)}`);
  }
  const h = replicateHeadline(summary);
  metricIfFinite(ctx, 'logratio_spread', h.logratio_spread);
  metricIfFinite(ctx, 'pmass_min', h.pmass_min);
  ctx.log(`${h.cue} spread ${h.logratio_spread.toFixed(3)} (max − min coeff), pmass_min ${h.pmass_min.toFixed(3)}`);
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, loaded.resolved, loaded.backend));
}

export const evalIidImplementation: KindImplementation<EvalIidParams> = { run };
