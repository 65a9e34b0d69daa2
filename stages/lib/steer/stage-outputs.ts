/**
 * Output helpers shared by the ML stage kinds: provenance facts, the Yes/No id log, and SI numbers as metrics.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext } from '../../../src/contract/stage-kind.js';
import { FILES } from '../artifacts.js';
import type { ChoiceIds } from '../choice-ids.js';
import type { DilemmasInfo } from '../read-dilemmas.js';
import type { ModelRef } from '../model/model-ref.js';
import type { StageFacts } from '../provenance.js';
import type { SiUnit } from './si-units.js';

/** The model as provenance names it: a resolved model input, or (`with: model`) just its id. */
export interface ModelFacts {
  ref: Pick<ModelRef, 'id' | 'random'> & { fingerprint: string | null };
}

export function stageFacts(kind: string, version: string, model: ModelFacts, backend: string | null, dataset?: DilemmasInfo | { label: string; fingerprint: string }): StageFacts {
  const d = dataset === undefined ? null : 'dataset' in dataset ? { label: dataset.dataset, fingerprint: dataset.fingerprint, synthetic: dataset.synthetic } : { ...dataset, synthetic: false };
  return {
    kind,
    version,
    model: model.ref.id,
    model_fingerprint: model.ref.fingerprint,
    model_random: model.ref.random,
    dataset: d?.label ?? null,
    dataset_fingerprint: d?.fingerprint ?? null,
    dataset_synthetic: d?.synthetic ?? false,
    backend,
  };
}

/** Record a metric if it is a finite number (NaN rates of empty denominators are left out). */
export function metricIfFinite(ctx: Pick<StageContext, 'metric'>, name: string, value: number): void {
  if (Number.isFinite(value)) ctx.metric(name, value);
}

/** study-ref §9.4: log the two id sets and pmass at α = 0 into the output. */
export function writeChoiceIds(outDir: string, ids: ChoiceIds, extra: Record<string, unknown>): void {
  const body = {
    rule: ids.rule,
    yes_ids: ids.yesIds,
    yes_tokens: ids.yesTokens,
    no_ids: ids.noIds,
    no_tokens: ids.noTokens,
    ...extra,
  };
  writeFileSync(join(outDir, FILES.choiceIds), `${JSON.stringify(body, null, 2)}\n`);
}

/** The SI numbers of a unit as metrics, named `NAME` or `PREFIX/NAME`. */
export function recordSiMetrics(ctx: Pick<StageContext, 'metric'>, u: SiUnit, prefix: string | null): void {
  const m = u.metrics;
  const name = (n: string): string => (prefix === null ? n : `${prefix}/${n}`);
  const values: [string, number][] = [
    ['SI_k2', m.SI_k2],
    ['SI_k1', m.SI_k1],
    ['SI_best', m.SI_best],
    ['si_fwd', m.si_fwd],
    ['si_rev', m.si_rev],
    ['fix_rate', m.fix_rate],
    ['broke_rate', m.broke_rate],
    ['flip_rate', m.flip_rate],
    ['counter_rate', m.counter_rate],
    ['pmass_ratio', m.pmass_ratio],
    ['mean_lr_ref', m.lr_ref],
    ['mean_lr_pos', m.lr_pos],
    ['mean_lr_neg', m.lr_neg],
  ];
  for (const [n, v] of values) metricIfFinite(ctx, name(n), v);
  for (const [n, v] of [['fix_fwd', m.fix_fwd], ['broke_fwd', m.broke_fwd], ['flip_rev', m.flip_rev], ['counter_rev', m.counter_rev]] as const) {
    if (v >= 0) ctx.metric(name(n), v);
  }
}
