/**
 * The `data` stage implementation: load the model and tokenizer, generate the pairs, check they diverge, write
 * pairs.jsonl and data_summary.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { loadQuestionPool, trainingQuestions } from '../lib/question-pool.js';
import { generatePairs } from './generate-pairs.js';
import { behaviorFile, loadBehaviorDefinition, personaSet, topicPrompts, type BehaviorDefinition } from '../lib/behavior-definition.js';
import { checkPairsDiverged, DATA_SUMMARY_FILE, formatPairs, PAIRS_FILE } from '../lib/pairs.js';
import type { DataParams } from './params.js';
import { sha256File } from '../lib/model/model-ref.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { stageFacts } from '../lib/steer/stage-outputs.js';
import { projectFile } from '../lib/model/model-source.js';
import { loadStageModel } from '../lib/model/stage-model.js';

/** The first n of the definition's topic prompts; a pipeline asking for more than there are is an error. */
function firstTopics(def: BehaviorDefinition, n: number): string[] {
  const all = topicPrompts(def);
  if (all.length < n) throw new Error(`n_topics = ${n}, but ${def.file} lists ${all.length} topics`);
  return all.slice(0, n);
}

export const dataImplementation: KindImplementation<DataParams> = {
  async run(ctx: KindContext<DataParams>): Promise<void> {
    const t0 = performance.now();
    const p = ctx.params;
    const poolParam = p.pool;
    const poolPath = projectFile(ctx, 'pool', poolParam);
    const nTopics = p.n_topics;
    const def = loadBehaviorDefinition(behaviorFile(ctx.projectDir, p.behavior));
    if (!def.ok) throw new Error(def.error);
    const behavior = def.value;
    const personas = personaSet(behavior, p.personas);
    const questions = behavior.questions.source === 'pool' ? trainingQuestions(loadQuestionPool(poolPath, { thinking: false }), nTopics) : firstTopics(behavior, nTopics);
    const sm = await loadStageModel(ctx);
    const { model, tokenizer: tok } = sm;
    const md = sm.modelDir;
    try {
      const opts = {
        questions,
        behavior,
        personas: personas.set,
        nPersonas: p.n_personas,
        nSamples: p.n_samples,
        maxNewTokens: p.max_new_tokens,
        minNewTokens: p.min_new_tokens,
        temperature: p.temperature,
        topP: p.top_p,
        topK: p.top_k,
        minP: p.min_p,
        enableThinking: p.enable_thinking,
        batchSize: p.batch_size,
        seed: p.seed,
        modelDir: md.dir,
        signal: ctx.signal,
        onProgress: (done: number, total: number) => ctx.progress({ done, total, unit: 'responses' }),
      };
      const { rows, sampling } = await generatePairs(model, tok, opts);
      const stats = checkPairsDiverged(rows, `${ctx.stageId}: generated pairs`);
      const hitPos = rows.filter((r) => r.pos_hit_max_tokens).length;
      const hitNeg = rows.filter((r) => r.neg_hit_max_tokens).length;
      ctx.log(`${rows.length} pairs; ${stats.identicalPairs} identical; ${stats.uniquePos} unique pos, ${stats.uniqueNeg} unique neg; ${hitPos}/${hitNeg} pos/neg generations hit max_new_tokens`);
      ctx.metric('pairs', rows.length);
      ctx.metric('identical_pairs', stats.identicalPairs);
      writeFileSync(join(ctx.outDir, PAIRS_FILE), formatPairs(rows));
      const summary = {
        pairs: rows.length,
        behavior: behavior.name,
        personas: personas.name,
        n_topics: nTopics,
        n_personas: Math.min(opts.nPersonas, personas.set.pos.length),
        n_samples: opts.nSamples,
        generation: { max_new_tokens: opts.maxNewTokens, min_new_tokens: opts.minNewTokens, temperature: sampling.temperature, top_p: sampling.topP, top_k: sampling.topK, min_p: sampling.minP, enable_thinking: opts.enableThinking, batch_size: opts.batchSize, seed: opts.seed },
        divergence: stats,
        hit_max_new_tokens: { pos: hitPos, neg: hitNeg },
        model: sm.label,
        backend: sm.backend,
      };
      writeFileSync(join(ctx.outDir, DATA_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`);
      // outputs hold no durations (a rerun must give the same bytes, for early cutoff): the time is a metric
      ctx.metric('seconds', (performance.now() - t0) / 1000);
      writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, { ref: sm.ref ?? { id: sm.label, fingerprint: null, random: false } }, sm.backend, { label: poolParam, fingerprint: sha256File(poolPath) }));
    } finally {
      sm.release();
    }
  },
};
