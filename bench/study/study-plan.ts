/**
 * bench/study's model of the study's cost (bench/study/README.md): the counts of the real study, the cut counts
 * the bench runs, which count each stage's work is proportional to, and the projection of the full study's wall
 * time from the measured stage times. Pure: study-bench.ts does the running and the reading.
 *
 * The projection, per pipeline stage (all its instances together):
 *   projected = instances_full / instances_cut × Σ_instances (fixed + (measured − fixed) × work_full / work_cut)
 * where `fixed` is the per-process cost a model stage pays whatever its counts (start-up, backend, model load;
 * measured separately), `work` is the count the stage's time is linear in (table COUNT_OF_STAGE), and the
 * instance ratio is the adapter matrix (6 types in the study, 1 in the cut run: the cut type stands for all).
 * For train stages the measured variable part is the engine's `train_seconds` metric (the optimizer steps and
 * the validation loss) and the rest of the stage is the fixed part.
 * The study runs model-heavy stages one at a time (--accel 1), so its wall time is the sum over stages.
 */

/** The real study's counts (pipeline.yaml's params; daily-dilemmas honesty: 219 dilemmas, 438 rows). */
export const FULL_COUNTS = {
  adapters: 6,
  pairs: 20 * 5 * 10, // n_topics × n_personas × n_samples
  dilemmas: 219,
  repeTopics: 20,
  klPrompts: 50 + 100, // n_calib + n_audit
  calibPrompts: 50,
  heldOut: 12,
};

/** The cut run: pipeline.yaml's params overridden with these (max_new_tokens, max_len, batch sizes, α lists kept). */
export const CUT = {
  adapter: 'delora', // the ablation needs delora's dW; its step costs what LoRA's does (bench/training)
  data: { n_topics: 2, n_personas: 2, n_samples: 2 },
  // two steps: the first runs at learning rate 0 (warm-up from 0), so one step would leave the adapters untouched
  train: { max_steps: 2, batch_size: 4, grad_accum: 1 },
  n_dilemmas: 2,
  repe: { n_train_topics: 2 },
  kl: { n_calib: 5, n_audit: 10 },
  iid: { n_held_out: 2 },
};

export const CUT_COUNTS = {
  adapters: 1,
  pairs: CUT.data.n_topics * CUT.data.n_personas * CUT.data.n_samples,
  dilemmas: CUT.n_dilemmas,
  repeTopics: CUT.repe.n_train_topics,
  klPrompts: CUT.kl.n_calib + CUT.kl.n_audit,
  calibPrompts: CUT.kl.n_calib,
  heldOut: CUT.iid.n_held_out,
};

export type WorkCount = keyof typeof FULL_COUNTS | 'trainSequences' | 'none';

/** What each stage of pipeline.yaml is linear in. */
export const COUNT_OF_STAGE: Record<string, WorkCount> = {
  model: 'none',
  dilemmas: 'none',
  data: 'pairs',
  train_pos: 'trainSequences',
  train_neg: 'trainSequences',
  diff: 'none',
  // SVDs of the base weights and dW: fixed by the model's shape, not by any count the bench cuts
  subspace: 'none',
  repe: 'repeTopics',
  kl_target: 'klPrompts',
  calibrate: 'calibPrompts',
  calibrate_repe: 'calibPrompts',
  eval: 'dilemmas',
  eval_repe: 'dilemmas',
  eval_prompts: 'dilemmas',
  eval_calibrated: 'dilemmas',
  eval_calibrated_repe: 'dilemmas',
  iid: 'heldOut',
  iid_repe: 'heldOut',
  ablate: 'dilemmas',
  report: 'none',
};

export interface MeasuredStage {
  stageId: string;
  seconds: number;
  /** train stages: the engine's train_seconds metric */
  trainSeconds?: number;
  /** train stages: sequences one epoch of the cut run's training set holds, and the sequences the cut run trained on */
  trainExamples?: number;
  trainSequencesRun?: number;
}

export interface ProjectedStage {
  stage: string;
  instances: number;
  measuredSeconds: number;
  workRatio: number;
  instanceRatio: number;
  fixedSeconds: number;
  projectedSeconds: number;
}

/**
 * Sequences a run of `steps` optimizer steps trains on over `nTrain` examples, as the trainer plans them (max_steps
 * cycles epochs; an epoch's last batch holds the remainder).
 */
export function sequencesTrained(nTrain: number, batchSize: number, gradAccum: number, steps: number): number {
  const sizes: number[] = [];
  for (let i = 0; i < nTrain; i += batchSize) sizes.push(Math.min(batchSize, nTrain - i));
  const perEpoch: number[] = [];
  for (let i = 0; i < sizes.length; i += gradAccum) perEpoch.push(sizes.slice(i, i + gradAccum).reduce((a, b) => a + b, 0));
  let total = 0;
  for (let s = 0; s < steps; s++) total += perEpoch[s % perEpoch.length] ?? 0;
  return total;
}

export function stageName(stageId: string): string {
  const at = stageId.indexOf('@');
  return at < 0 ? stageId : stageId.slice(0, at);
}

/**
 * Project the full study from measured stage times. `fixedSeconds`: a model stage's cost at zero work.
 * Stages not in COUNT_OF_STAGE are an error (the model would be silently wrong).
 */
export function project(measured: readonly MeasuredStage[], fixedSeconds: number): { stages: ProjectedStage[]; measuredTotal: number; projectedTotal: number } | { error: string } {
  const groups = new Map<string, MeasuredStage[]>();
  for (const m of measured) {
    const name = stageName(m.stageId);
    if (!(name in COUNT_OF_STAGE)) return { error: `stage ${m.stageId}: no work count in COUNT_OF_STAGE (bench/study/study-plan.ts)` };
    groups.set(name, [...(groups.get(name) ?? []), m]);
  }
  const stages: ProjectedStage[] = [];
  for (const [name, ms] of groups) {
    const count = COUNT_OF_STAGE[name] as WorkCount;
    const perAdapter = ms.some((m) => m.stageId.includes(`-${CUT.adapter}-`));
    const instanceRatio = perAdapter ? FULL_COUNTS.adapters / CUT_COUNTS.adapters : 1;
    let workRatio = 1;
    let fixed = 0;
    let projected = 0;
    for (const m of ms) {
      if (count === 'none') {
        projected += m.seconds;
      } else if (count === 'trainSequences') {
        if (m.trainSeconds === undefined || m.trainExamples === undefined || m.trainSequencesRun === undefined || m.trainSequencesRun <= 0) {
          return { error: `stage ${m.stageId}: train_seconds or the train summary is missing` };
        }
        // one epoch over the full study's training set: the cut set's share of the pairs, scaled to the full pairs
        const fullSequences = m.trainExamples * (FULL_COUNTS.pairs / CUT_COUNTS.pairs);
        workRatio = fullSequences / m.trainSequencesRun;
        fixed = m.seconds - m.trainSeconds;
        projected += fixed + m.trainSeconds * workRatio;
      } else {
        workRatio = FULL_COUNTS[count] / CUT_COUNTS[count];
        fixed = Math.min(fixedSeconds, m.seconds);
        projected += fixed + (m.seconds - fixed) * workRatio;
      }
    }
    stages.push({
      stage: name,
      instances: ms.length,
      measuredSeconds: ms.reduce((a, m) => a + m.seconds, 0),
      workRatio,
      instanceRatio,
      fixedSeconds: fixed,
      projectedSeconds: projected * instanceRatio,
    });
  }
  return {
    stages,
    measuredTotal: stages.reduce((a, s) => a + s.measuredSeconds, 0),
    projectedTotal: stages.reduce((a, s) => a + s.projectedSeconds, 0),
  };
}

function hms(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function projectionMarkdown(p: { stages: ProjectedStage[]; measuredTotal: number; projectedTotal: number }): string {
  const rows = p.stages.map((s) => `| ${s.stage} | ${s.instances} | ${s.measuredSeconds.toFixed(1)} | ${s.fixedSeconds.toFixed(1)} | ${s.workRatio.toFixed(1)} | ${s.instanceRatio} | ${hms(s.projectedSeconds)} |`);
  return [
    '| stage | instances (cut) | measured s | fixed s | work ratio | instance ratio | projected (full study) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    `| **total** | ${p.stages.reduce((a, s) => a + s.instances, 0)} | ${p.measuredTotal.toFixed(1)} | | | | **${hms(p.projectedTotal)}** |`,
  ].join('\n') + '\n';
}
