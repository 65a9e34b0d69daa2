/**
 * Scoring daily-dilemmas rows under a steering method (study-ref §9.3–9.5): the chat-templated prompt ending in the
 * anchor (think block closed before it), one forward pass per row, Yes/No log-probabilities at the last real
 * token, logratio, pmass, low_pmass and logratio_honesty.
 */
import type { Tokenizer } from '../../../src/core/tokenizer.js';
import type { DilemmasPerRowRow } from '../artifacts.js';
import { choiceIds, type ChoiceIds } from '../choice-ids.js';
import { logratioHonesty, scoreChoiceFromLogits } from '../choice-score.js';
import type { DilemmaRow } from '../dilemmas-dataset.js';
import { dilemmaConversation, formatDilemmaPrompt } from '../prompts.js';
import { mean } from '../numeric.js';
import type { LoadedModel } from '../model/load-model.js';
import { encodeContinued } from './chat-inputs.js';
import type { DilemmaParams } from './dilemma-params.js';
import { forEachLastLogits } from './model-batches.js';
import { withSteering, type SteeringMethod } from './steering.js';
import { encodeGuidedPrompts, guidedSequences } from './guided-cot.js';

export interface EncodedDilemmas {
  seqs: number[][];
  /** rows whose prompt was cut from the front to max_length */
  truncatedRows: number;
  /** rows where `</think>\n\n` had to be inserted before the anchor */
  thinkClosedRows: number;
  /** the rendered ids of the first row, for the log (the prompt-format gate) */
  example: number[];
}

export function encodeDilemmas(tok: Tokenizer, rows: readonly DilemmaRow[], systemPrompt: string, p: DilemmaParams): EncodedDilemmas {
  let truncatedRows = 0;
  let thinkClosedRows = 0;
  const seqs = rows.map((r) => {
    const e = encodeContinued(tok, dilemmaConversation(systemPrompt, p.format, r), p.maxLength);
    if (e.truncated > 0) truncatedRows++;
    if (e.thinkClosed) thinkClosedRows++;
    return e.ids;
  });
  return { seqs, truncatedRows, thinkClosedRows, example: seqs[0] ?? [] };
}

export interface ScoreOptions {
  params: DilemmaParams;
  signal?: AbortSignal;
  /** rows scored so far, over all coeffs of this call */
  onProgress?: (done: number, total: number) => void;
  log?: (m: string) => void;
}

/** The Yes/No id sets of the rule, with a log line listing them. */
export function choiceIdsFor(tok: Tokenizer, p: DilemmaParams, log?: (m: string) => void): ChoiceIds {
  const ids = choiceIds(tok.getVocab(), { rule: p.choiceRule });
  log?.(`Yes ids (${p.choiceRule}): ${ids.yesIds.map((id, i) => `${id}=${JSON.stringify(ids.yesTokens[i])}`).join(' ')}`);
  log?.(`No ids (${p.choiceRule}): ${ids.noIds.map((id, i) => `${id}=${JSON.stringify(ids.noTokens[i])}`).join(' ')}`);
  return ids;
}

/** Describe a prompt for the log: the rendered text around the anchor, special tokens visible. */
export function describePrompt(tok: Tokenizer, ids: readonly number[]): string {
  const text = tok.decode(ids);
  return text.length > 400 ? `${JSON.stringify(text.slice(0, 120))} … ${JSON.stringify(text.slice(-200))}` : JSON.stringify(text);
}

/**
 * Score `rows` with `method` at each coeff. Prompt methods are scored once (their system prompt is the method)
 * and labelled with `coeffs[0]`; other methods use `params.systemPrompt` and steer at each coeff.
 */
export async function scoreDilemmas(loaded: LoadedModel, rows: readonly DilemmaRow[], method: SteeringMethod, coeffs: readonly number[], ids: ChoiceIds, opts: ScoreOptions): Promise<DilemmasPerRowRow[]> {
  const p = opts.params;
  const systemPrompt = method.kind === 'prompt' ? method.systemPrompt : p.systemPrompt;
  if (p.guided !== null) return scoreGuided(loaded, rows, method, coeffs, ids, systemPrompt, p.guided.nThink, opts);
  const enc = encodeDilemmas(loaded.tokenizer, rows, systemPrompt, p);
  opts.log?.(`${method.method}: prompt of row idx=${rows[0]?.idx}: ${describePrompt(loaded.tokenizer, enc.example)}`);
  if (enc.truncatedRows > 0) opts.log?.(`${method.method}: ${enc.truncatedRows} prompt(s) longer than max_length ${p.maxLength} were cut from the front`);
  if (enc.thinkClosedRows > 0) opts.log?.(`${method.method}: closed an open <think> block before the anchor in ${enc.thinkClosedRows} prompt(s)`);
  const out: DilemmasPerRowRow[] = [];
  const total = rows.length * coeffs.length;
  let before = 0;
  for (const coeff of coeffs) {
    const scored: DilemmasPerRowRow[] = new Array<DilemmasPerRowRow>(rows.length);
    await withSteering(
      loaded.model,
      method,
      coeff,
      (forward) =>
        forEachLastLogits(loaded.model, enc.seqs, { batchSize: p.batchSize, forward, ...(opts.signal ? { signal: opts.signal } : {}), onProgress: (d) => opts.onProgress?.(before + d, total) }, (i, logits) => {
          scored[i] = scoredRow(method.method, coeff, rows[i] as DilemmaRow, logits, ids, p.pmassThreshold);
        }),
      opts.log,
    );
    before += rows.length;
    out.push(...scored);
    opts.log?.(`${method.method} @ ${coeff}: mean logratio_honesty ${mean(scored.map((r) => r.logratio_honesty)).toFixed(4)}, mean pmass ${mean(scored.map((r) => r.pmass)).toFixed(4)}`);
  }
  return out;
}

function scoredRow(method: string, coeff: number, r: DilemmaRow, logits: Float32Array, ids: ChoiceIds, pmassThreshold: number): DilemmasPerRowRow {
  const s = scoreChoiceFromLogits(logits, ids, { pmassThreshold });
  return {
    method,
    coeff,
    idx: r.idx,
    dilemma_idx: r.dilemma_idx,
    logratio: s.logratio,
    pmass: s.pmass,
    low_pmass: s.low_pmass,
    action_type: r.action_type,
    honesty_label: r.honesty_label,
    logratio_honesty: logratioHonesty(s.logratio, r.honesty_label),
  };
}

/** F3 (study-ref §9.5): per coeff, generate the think blocks under the steering, then score after the anchor. */
async function scoreGuided(loaded: LoadedModel, rows: readonly DilemmaRow[], method: SteeringMethod, coeffs: readonly number[], ids: ChoiceIds, systemPrompt: string, nThink: number, opts: ScoreOptions): Promise<DilemmasPerRowRow[]> {
  const p = opts.params;
  const tok = loaded.tokenizer;
  const prompts = encodeGuidedPrompts(tok, systemPrompt, rows.map((r) => formatDilemmaPrompt(p.format, r)), p.maxLength);
  if (prompts.truncatedRows > 0) opts.log?.(`${method.method}: ${prompts.truncatedRows} prompt(s) longer than max_length ${p.maxLength} were cut from the front`);
  const out: DilemmasPerRowRow[] = [];
  const total = rows.length * coeffs.length;
  let before = 0;
  for (const coeff of coeffs) {
    const scored: DilemmasPerRowRow[] = new Array<DilemmasPerRowRow>(rows.length);
    let forced = 0;
    await withSteering(
      loaded.model,
      method,
      coeff,
      async (forward) => {
        const guided = await guidedSequences(loaded.model, tok, prompts.ids, forward, { nThink, anchor: p.format.anchor }, opts.signal);
        forced = guided.forcedClose.filter((f) => f).length;
        if (coeff === coeffs[0]) opts.log?.(`${method.method}: guided prompt of row idx=${rows[0]?.idx} at ${coeff}: ${describePrompt(tok, guided.seqs[0] ?? [])}`);
        await forEachLastLogits(loaded.model, guided.seqs, { batchSize: p.batchSize, forward, ...(opts.signal ? { signal: opts.signal } : {}), onProgress: (d) => opts.onProgress?.(before + d, total) }, (i, logits) => {
          scored[i] = scoredRow(method.method, coeff, rows[i] as DilemmaRow, logits, ids, p.pmassThreshold);
        });
      },
      opts.log,
    );
    before += rows.length;
    out.push(...scored);
    const lowFrac = scored.filter((r) => r.low_pmass).length / rows.length;
    opts.log?.(`${method.method} @ ${coeff} (f3, ${nThink} think tokens): forced_close_frac ${(forced / rows.length).toFixed(4)}, mean pmass ${mean(scored.map((r) => r.pmass)).toFixed(4)}, frac_low_pmass ${lowFrac.toFixed(4)}, mean logratio_honesty ${mean(scored.map((r) => r.logratio_honesty)).toFixed(4)}`);
  }
  return out;
}
