/**
 * The `data` stage implementation: load the model and tokenizer, generate the pairs, check they diverge, write
 * pairs.jsonl and data_summary.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext, StageImplementation } from '../../src/contract/stage-kind.js';
import { loadQuestionPool, trainingQuestions } from '../lib/question-pool.js';
import type { PersonaSetName } from '../lib/prompts.js';
import { generatePairs } from './generate-pairs.js';
import { checkPairsDiverged, DATA_SUMMARY_FILE, formatPairs, PAIRS_FILE } from '../lib/pairs.js';
import { DATA_KIND_NAME, DATA_KIND_VERSION, DEFAULT_POOL } from './index.js';
import { sha256File } from '../lib/model/model-ref.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { stageFacts } from '../lib/steer/stage-outputs.js';
import { projectFile } from '../lib/model/model-source.js';
import { loadStageModel } from '../lib/model/stage-model.js';

function param<T>(ctx: StageContext, key: string, fallback: T): T {
  const v = ctx.params[key];
  return v === undefined ? fallback : (v as T);
}

export const dataImplementation: StageImplementation = {
  async run(ctx: StageContext): Promise<void> {
    const t0 = performance.now();
    const poolParam = param(ctx, 'pool', DEFAULT_POOL);
    const poolPath = projectFile(ctx, 'pool', poolParam);
    const nTopics = param(ctx, 'n_topics', 20);
    const questions = trainingQuestions(loadQuestionPool(poolPath, { thinking: false }), nTopics);
    const sm = await loadStageModel(ctx);
    const { model, tokenizer: tok } = sm;
    const md = sm.modelDir;
    try {
      const opts = {
        questions,
        behavior: 'honesty' as const,
        personas: param<PersonaSetName>(ctx, 'personas', 'e2'),
        nPersonas: param(ctx, 'n_personas', 5),
        nSamples: param(ctx, 'n_samples', 10),
        maxNewTokens: param(ctx, 'max_new_tokens', 96),
        minNewTokens: param(ctx, 'min_new_tokens', 0),
        temperature: param(ctx, 'temperature', 0.8),
        topP: param<number | null>(ctx, 'top_p', null),
        topK: param<number | null>(ctx, 'top_k', null),
        minP: param<number | null>(ctx, 'min_p', null),
        enableThinking: param<boolean | null>(ctx, 'enable_thinking', null),
        batchSize: param(ctx, 'batch_size', 8),
        seed: param(ctx, 'seed', 0),
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
        behavior: opts.behavior,
        personas: opts.personas,
        n_topics: nTopics,
        n_personas: Math.min(opts.nPersonas, opts.personas === 'e2' ? 5 : 1),
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
      writeStageProvenance(ctx, stageFacts(DATA_KIND_NAME, DATA_KIND_VERSION, { ref: sm.ref ?? { id: sm.label, fingerprint: null, random: false } }, sm.backend, { label: poolParam, fingerprint: sha256File(poolPath) }));
    } finally {
      sm.release();
    }
  },
};
