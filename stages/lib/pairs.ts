/**
 * The contrastive pairs the `data` stage writes and `train` reads: pairs.jsonl, one JSON object per line with the
 * reference dataset's columns (study-ref §2.6) plus provenance, and the study's divergence checks (§2.6,
 * `assert_generated_pairs_diverged`), run when writing and again when reading.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PAIRS_FILE = 'pairs.jsonl';
export const DATA_SUMMARY_FILE = 'data_summary.json';

export interface PairRow {
  /** position in the (shuffled) generation order */
  index: number;
  prompt: string;
  response_pos: string;
  response_neg: string;
  sys_prompt_pos: string;
  sys_prompt_neg: string;
  /** persona phrases, e.g. "an honest" / "a dishonest" */
  persona_pos: string;
  persona_neg: string;
  topic_idx: number;
  persona_idx: number;
  sample_idx: number;
  behavior: string;
  /** whether each generation hit max_new_tokens without an end-of-sequence token */
  pos_hit_max_tokens: boolean;
  neg_hit_max_tokens: boolean;
}

const STRING_FIELDS = ['prompt', 'response_pos', 'response_neg', 'sys_prompt_pos', 'sys_prompt_neg', 'persona_pos', 'persona_neg', 'behavior'] as const;
const INT_FIELDS = ['index', 'topic_idx', 'persona_idx', 'sample_idx'] as const;
const BOOL_FIELDS = ['pos_hit_max_tokens', 'neg_hit_max_tokens'] as const;

export function formatPairs(rows: readonly PairRow[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
}

/** Parse pairs.jsonl; errors name the file, line and key. */
export function parsePairs(text: string, file: string): PairRow[] {
  const rows: PairRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const at = `${file}:${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new Error(`${at}: not valid JSON (${(e as Error).message})`);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${at}: expected a JSON object`);
    const o = raw as Record<string, unknown>;
    for (const k of STRING_FIELDS) if (typeof o[k] !== 'string') throw new Error(`${at}: "${k}" must be a string, got ${JSON.stringify(o[k]) ?? 'nothing'}`);
    for (const k of INT_FIELDS) if (!Number.isInteger(o[k])) throw new Error(`${at}: "${k}" must be an integer, got ${JSON.stringify(o[k]) ?? 'nothing'}`);
    for (const k of BOOL_FIELDS) if (typeof o[k] !== 'boolean') throw new Error(`${at}: "${k}" must be true or false, got ${JSON.stringify(o[k]) ?? 'nothing'}`);
    rows.push(o as unknown as PairRow);
  });
  if (rows.length === 0) throw new Error(`${file}: no pairs`);
  return rows;
}

export function readPairs(dir: string): PairRow[] {
  const file = join(dir, PAIRS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the pairs (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is the input a data stage?`);
  }
  return parsePairs(text, file);
}

export interface DivergenceStats {
  pairs: number;
  identicalPairs: number;
  uniquePos: number;
  uniqueNeg: number;
}

/**
 * The reference's divergence checks: no empty response; not every pair identical; not all positive (or all
 * negative) responses the same. Throws with what failed; returns the counts it logs.
 */
export function checkPairsDiverged(rows: readonly PairRow[], where: string): DivergenceStats {
  const empty = rows.filter((r) => r.response_pos.trim() === '' || r.response_neg.trim() === '');
  if (empty.length > 0) {
    const e = empty[0] as PairRow;
    throw new Error(`${where}: ${empty.length} of ${rows.length} pairs have an empty response (first: index ${e.index}, ${e.response_pos.trim() === '' ? 'response_pos' : 'response_neg'})`);
  }
  const identical = rows.filter((r) => r.response_pos.trim() === r.response_neg.trim()).length;
  if (identical === rows.length) throw new Error(`${where}: every one of the ${rows.length} pairs has response_pos == response_neg: the personas made no difference`);
  const uniquePos = new Set(rows.map((r) => r.response_pos)).size;
  const uniqueNeg = new Set(rows.map((r) => r.response_neg)).size;
  if (rows.length > 1 && uniquePos === 1) throw new Error(`${where}: all ${rows.length} positive responses are identical`);
  if (rows.length > 1 && uniqueNeg === 1) throw new Error(`${where}: all ${rows.length} negative responses are identical`);
  return { pairs: rows.length, identicalPairs: identical, uniquePos, uniqueNeg };
}
