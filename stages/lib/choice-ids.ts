/**
 * The Yes/No token id sets scored by the daily-dilemmas and IID evals (study-ref §9.4), from a vocabulary of raw
 * byte-level BPE token strings (tokenizer.json `model.vocab` plus `added_tokens`, as HF `tok.get_vocab()`).
 *
 * - `latest` (canonical, `sycophancy.py@0bc46dc5`): Python-lstrip the token, strip each marker of Ġ, ▁, ##, Ċ in
 *   that order (each while it is a prefix, one pass over the list), then Python-strip and lowercase; keep exact
 *   "yes"/"no". So `Yes`, `ĠYes`, `yes`, `YES`, `ĊNo` are in; `.No`, `"Yes`, `ĊĠYes` are out.
 * - `e1` (`sycophancy.py@7e1b1718`): `re.match(r"^\W*yes$", token, re.IGNORECASE)` with Python's Unicode `\W`;
 *   `Ġ` is a letter to Python, so `ĠYes` is out and punctuation-prefixed forms are in. Python's `$` also matches
 *   before one trailing "\n", which we reproduce.
 * - `antipasto` (`antipasto/eval.py`): lowercased token starts or ends with the word and is shorter than
 *   len(word) + slack (slack 4 per study-ref §9.4; a copy of the code seen uses 2). Noisy by design (`not`, `eyes`).
 */
import { pyLstrip, pyStrip } from './py-compat.js';

export type ChoiceRule = 'latest' | 'e1' | 'antipasto';
export const CHOICE_RULES: readonly ChoiceRule[] = ['latest', 'e1', 'antipasto'];
export const DEFAULT_CHOICE_RULE: ChoiceRule = 'latest';

export interface ChoiceIds {
  rule: ChoiceRule;
  /** sorted ascending */
  yesIds: number[];
  noIds: number[];
  /** the token strings, in id order, for the log */
  yesTokens: string[];
  noTokens: string[];
}

const MARKERS = ['Ġ', '▁', '##', 'Ċ'] as const;

/** The latest-ws normalisation (`_strip_choice_token`). */
export function stripChoiceToken(token: string): string {
  let t = pyLstrip(token);
  for (const m of MARKERS) while (t.startsWith(m)) t = t.slice(m.length);
  return pyStrip(t).toLowerCase();
}

function e1Matcher(word: string): (token: string) => boolean {
  // Python str-pattern \w = letters, numbers and underscore (str.isalnum() or "_"); $ = end or before a final "\n"
  const re = new RegExp(`^[^\\p{L}\\p{N}_]*${word}\\n?$`, 'iu');
  return (t) => re.test(t);
}

function antipastoMatcher(word: string, slack: number): (token: string) => boolean {
  return (t) => {
    const lower = t.toLowerCase();
    return (lower.startsWith(word) || lower.endsWith(word)) && [...t].length < word.length + slack;
  };
}

export interface ChoiceIdOptions {
  rule?: ChoiceRule;
  /** antipasto only: keep tokens shorter than len(word) + slack (default 4) */
  antipastoSlack?: number;
}

/** Pick the id sets from a vocabulary; throws when either set is empty, naming the rule and both counts. */
export function choiceIds(vocab: ReadonlyMap<string, number>, opts: ChoiceIdOptions = {}): ChoiceIds {
  const rule = opts.rule ?? DEFAULT_CHOICE_RULE;
  let isYes: (t: string) => boolean;
  let isNo: (t: string) => boolean;
  switch (rule) {
    case 'latest':
      isYes = (t) => stripChoiceToken(t) === 'yes';
      isNo = (t) => stripChoiceToken(t) === 'no';
      break;
    case 'e1':
      isYes = e1Matcher('yes');
      isNo = e1Matcher('no');
      break;
    case 'antipasto': {
      const slack = opts.antipastoSlack ?? 4;
      isYes = antipastoMatcher('yes', slack);
      isNo = antipastoMatcher('no', slack);
      break;
    }
  }
  const yes: [number, string][] = [];
  const no: [number, string][] = [];
  for (const [tok, id] of vocab) {
    if (isYes(tok)) yes.push([id, tok]);
    // antipasto's two tests can overlap in principle ("noyes"); the reference keeps a token in both lists then
    if (isNo(tok)) no.push([id, tok]);
  }
  if (yes.length === 0 || no.length === 0) throw new Error(`no Yes/No tokens found in the vocabulary with the "${rule}" rule: yes=${yes.length} no=${no.length}`);
  const byId = (a: [number, string], b: [number, string]): number => a[0] - b[0];
  yes.sort(byId);
  no.sort(byId);
  return { rule, yesIds: yes.map((x) => x[0]), noIds: no.map((x) => x[0]), yesTokens: yes.map((x) => x[1]), noTokens: no.map((x) => x[1]) };
}

/** The vocabulary of a parsed tokenizer.json: `model.vocab` plus `added_tokens` (which win on a clash, as in HF). */
export function vocabFromTokenizerJson(json: unknown, source = 'tokenizer.json'): Map<string, number> {
  const model = (json as { model?: { vocab?: unknown } } | null)?.model;
  const v = model?.vocab;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${source}: no model.vocab object (only BPE/WordPiece-style token→id maps are supported)`);
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(v as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isInteger(id)) throw new Error(`${source}: model.vocab[${JSON.stringify(tok)}] is not an integer id`);
    vocab.set(tok, id);
  }
  const added = (json as { added_tokens?: unknown }).added_tokens;
  if (added !== undefined) {
    if (!Array.isArray(added)) throw new Error(`${source}: added_tokens must be an array`);
    added.forEach((a: unknown, i) => {
      const { id, content } = (a ?? {}) as { id?: unknown; content?: unknown };
      if (typeof id !== 'number' || typeof content !== 'string') throw new Error(`${source}: added_tokens[${i}] needs an integer id and a string content`);
      vocab.set(content, id);
    });
  }
  return vocab;
}
