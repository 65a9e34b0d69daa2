/**
 * The question/suffix pool (study-ref §2.3): a JSON array of `{cat, suffix, user_msg}` that data generation (user_msg),
 * RepE fitting (first n entries) and KL calibration (stratified sets, §10.1) draw from.
 *
 * `loadQuestionPool` validates the file and applies the study's `_load_suffixes(thinking)` rules. `selectKlPrompts`
 * builds the v1 calibration and audit sets with the reference's procedure. The shuffles use our seeded `Rng`
 * (src/core/random.ts), not numpy's `default_rng(0)` (PCG64 + numpy's own bounded-integer and shuffle code), which
 * cannot be reproduced bit for bit here: the procedure is the reference's, the particular prompts drawn differ.
 */
import { readFileSync } from 'node:fs';
import { Rng } from '../../src/core/random.js';
import { pyStrip } from './py-compat.js';
import { THINK_CLOSE, THINK_OPEN } from './prompts.js';

export interface QuestionEntry {
  cat: string;
  suffix: string;
  user_msg: string;
}

/** A loaded entry, with its 0-based position in the file for error messages and provenance. */
export interface PoolEntry extends QuestionEntry {
  fileIndex: number;
}

/** The categories of the reference pool. Other categories load (they are never drawn for calibration). */
export const POOL_CATEGORIES = ['email', 'fact', 'reasoning', 'dialogue', 'stories', 'reasoning_trace', 'encyclopedia', 'code', 'tech', 'general', 'ethics'] as const;

/** §10.1: the calibration set is drawn round-robin over these (reasoning_trace excluded), in this order. */
export const CALIB_CATS = ['code', 'dialogue', 'encyclopedia', 'reasoning', 'ethics', 'fact', 'stories', 'general', 'email', 'tech'] as const;

export class QuestionPoolError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'QuestionPoolError';
  }
}

/** Parse and validate the raw JSON (no suffix rewriting). */
export function parseQuestionPool(text: string, file: string): QuestionEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new QuestionPoolError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data)) throw new QuestionPoolError(file, `expected a JSON array of {cat, suffix, user_msg} objects, got ${data === null ? 'null' : typeof data}`);
  if (data.length === 0) throw new QuestionPoolError(file, 'the pool is empty');
  return data.map((e: unknown, i): QuestionEntry => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new QuestionPoolError(file, `entry ${i}: expected an object {cat, suffix, user_msg}`);
    const o = e as Record<string, unknown>;
    for (const f of ['cat', 'suffix', 'user_msg'] as const) {
      if (!(f in o)) throw new QuestionPoolError(file, `entry ${i}: missing field "${f}"`);
      if (typeof o[f] !== 'string') throw new QuestionPoolError(file, `entry ${i}: field "${f}" must be a string, got ${o[f] === null ? 'null' : typeof o[f]}`);
    }
    if ((o.cat as string) === '') throw new QuestionPoolError(file, `entry ${i}: field "cat" is empty`);
    if (pyStrip(o.user_msg as string) === '') throw new QuestionPoolError(file, `entry ${i}: field "user_msg" is empty`);
    return { cat: o.cat as string, suffix: o.suffix as string, user_msg: o.user_msg as string };
  });
}

/**
 * `_load_suffixes(thinking)`: remove every literal "</think>" then "<think>" from each suffix and strip whitespace
 * (Python's str.strip); drop entries whose suffix is then empty; with `thinking`, prepend "<think>" to the suffix of
 * every even-indexed entry (index after filtering).
 */
export function applySuffixRules(entries: readonly QuestionEntry[], thinking: boolean, file = '<pool>'): PoolEntry[] {
  const kept: PoolEntry[] = [];
  entries.forEach((e, i) => {
    const s = pyStrip(e.suffix.replaceAll(THINK_CLOSE, '').replaceAll(THINK_OPEN, ''));
    if (s !== '') kept.push({ cat: e.cat, suffix: s, user_msg: e.user_msg, fileIndex: i });
  });
  if (kept.length === 0) throw new QuestionPoolError(file, 'no entry has a non-empty suffix after removing <think>/</think>');
  if (thinking) kept.forEach((e, i) => (e.suffix = i % 2 === 0 ? `${THINK_OPEN}${e.suffix}` : e.suffix));
  return kept;
}

export interface LoadPoolOptions {
  /** `_load_suffixes(thinking)`; data generation, RepE and KL v1 use false */
  thinking?: boolean;
}

export function loadQuestionPool(path: string, opts: LoadPoolOptions = {}): PoolEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new QuestionPoolError(path, `cannot read the question pool (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return applySuffixRules(parseQuestionPool(text, path), opts.thinking ?? false, path);
}

/** The data-generation questions: the first n user_msgs in file order (§2.3; repeats are kept, as the reference). */
export function trainingQuestions(pool: readonly PoolEntry[], nTopics: number): string[] {
  if (!(Number.isInteger(nTopics) && nTopics >= 1)) throw new Error(`n_topics must be a positive integer, got ${nTopics}`);
  if (pool.length < nTopics) throw new Error(`the question pool has ${pool.length} usable entries; n_topics = ${nTopics} needs that many`);
  return pool.slice(0, nTopics).map((e) => e.user_msg);
}

/** RepE fitting prompts: the first n entries in file order (§7.1). */
export function repeTrainEntries(pool: readonly PoolEntry[], nTrainTopics: number): PoolEntry[] {
  if (!(Number.isInteger(nTrainTopics) && nTrainTopics >= 1)) throw new Error(`n_train_topics must be a positive integer, got ${nTrainTopics}`);
  if (pool.length < nTrainTopics) throw new Error(`the question pool has ${pool.length} usable entries; n_train_topics = ${nTrainTopics} needs that many`);
  return pool.slice(0, nTrainTopics);
}

export interface KlPromptOptions {
  nCalib?: number;
  nAudit?: number;
  seed?: number;
  calibCats?: readonly string[];
}

export interface KlPromptSets {
  calibration: PoolEntry[];
  audit: PoolEntry[];
}

function entryKey(e: QuestionEntry): string {
  return JSON.stringify([e.user_msg, e.suffix]);
}

/**
 * §10.1 `_select_prompts`: group by category (first-appearance order), shuffle each category list with one seeded
 * generator in that order, take calibration prompts round-robin over `calibCats` until nCalib, then shuffle the
 * entries not used (by (user_msg, suffix), file order) with the same generator and take the first nAudit.
 * Throws if the pool cannot supply nCalib or nAudit prompts (the reference silently returns fewer).
 */
export function selectKlPrompts(pool: readonly PoolEntry[], opts: KlPromptOptions = {}): KlPromptSets {
  const nCalib = opts.nCalib ?? 50;
  const nAudit = opts.nAudit ?? 100;
  const cats = opts.calibCats ?? CALIB_CATS;
  for (const [k, v] of [['n_calib', nCalib], ['n_audit', nAudit]] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new Error(`${k} must be a non-negative integer, got ${v}`);
  }
  const rng = new Rng(opts.seed ?? 0);
  const byCat = new Map<string, PoolEntry[]>();
  for (const e of pool) {
    const list = byCat.get(e.cat);
    if (list) list.push(e);
    else byCat.set(e.cat, [e]);
  }
  for (const [cat, list] of byCat) byCat.set(cat, rng.shuffled(list));

  const calibration: PoolEntry[] = [];
  const used = new Set<string>();
  const cursors = new Map<string, number>(cats.map((c) => [c, 0]));
  while (calibration.length < nCalib) {
    let added = 0;
    for (const cat of cats) {
      if (calibration.length >= nCalib) break;
      const list = byCat.get(cat);
      if (list === undefined) continue;
      const i = cursors.get(cat) as number;
      if (i >= list.length) continue;
      const e = list[i] as PoolEntry;
      cursors.set(cat, i + 1);
      calibration.push(e);
      used.add(entryKey(e));
      added++;
    }
    if (added === 0) break;
  }
  if (calibration.length < nCalib) {
    const avail = cats.map((c) => `${c}: ${byCat.get(c)?.length ?? 0}`).join(', ');
    throw new Error(`KL calibration set: the pool has only ${calibration.length} prompts in the calibration categories (${avail}); n_calib = ${nCalib}`);
  }
  const rest = rng.shuffled(pool.filter((e) => !used.has(entryKey(e))));
  if (rest.length < nAudit) throw new Error(`KL audit set: only ${rest.length} pool entries remain after the ${calibration.length} calibration prompts; n_audit = ${nAudit}`);
  return { calibration, audit: rest.slice(0, nAudit) };
}
