/**
 * A Hugging Face tokenizer (tokenizer.json through @huggingface/tokenizers) with its chat template
 * (tokenizer_config.json's chat_template, or chat_template.jinja, rendered by @huggingface/jinja) — what
 * transformers' AutoTokenizer + apply_chat_template(tokenize=False) do, including Qwen3's enable_thinking switch
 * and continue_final_message.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';

export interface ChatMessage {
  role: string;
  content: string;
  /** Qwen3: reasoning rendered inside <think>…</think> for assistant turns after the last user query */
  reasoning_content?: string;
}

export interface ChatTemplateOptions {
  /** append the assistant header (`<|im_start|>assistant\n`) for the model to continue */
  addGenerationPrompt?: boolean;
  /** Qwen3: false appends an empty think block after the generation prompt; undefined leaves the template's default */
  enableThinking?: boolean;
  /** render, then cut right after the final message's content so the model continues it (transformers' semantics) */
  continueFinalMessage?: boolean;
  /** further template variables */
  extra?: Readonly<Record<string, unknown>>;
}

/** Python's str.isspace() set, so strip() behaves exactly as in transformers. */
const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const LEADING_WS = new RegExp(`^[${PY_WS}]+`);
const TRAILING_WS = new RegExp(`[${PY_WS}]+$`);
const pyLstrip = (s: string): string => s.replace(LEADING_WS, '');
const pyStrip = (s: string): string => pyLstrip(s).replace(TRAILING_WS, '');

type Json = Record<string, unknown>;

function tokenContent(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as Json)['content'] === 'string') return (v as Json)['content'] as string;
  return null;
}

export class Tokenizer {
  /** the directory the files came from */
  readonly dir: string;
  readonly #tok: HfTokenizer;
  readonly #template: Template | null;
  readonly #templateSource: string | null;
  readonly #specialTokens: Record<string, string | string[]>;
  readonly #specialIds: Set<number>;
  readonly #vocab: Map<string, number>;
  readonly #idToToken: Map<number, string>;
  /** the id of the end-of-sequence token (tokenizer_config's eos_token), if any */
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  /** Qwen3's `<think>` / `</think>` ids, null when the vocabulary has no such tokens */
  readonly thinkStartId: number | null;
  readonly thinkEndId: number | null;

  constructor(dir: string, tokenizerJson: Json, tokenizerConfig: Json, chatTemplate: string | null) {
    this.dir = dir;
    this.#tok = new HfTokenizer(tokenizerJson, tokenizerConfig);
    this.#templateSource = chatTemplate;
    this.#template = chatTemplate === null ? null : new Template(chatTemplate);
    this.#vocab = this.#tok.get_vocab(true);
    this.#idToToken = new Map();
    for (const [t, id] of this.#vocab) this.#idToToken.set(id, t);
    this.#specialIds = new Set();
    for (const [id, added] of this.#tok.get_added_tokens_decoder()) if (added.special) this.#specialIds.add(id);
    this.#specialTokens = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token']) {
      const c = tokenContent(tokenizerConfig[key]);
      if (c !== null) this.#specialTokens[key] = c;
    }
    const extra = tokenizerConfig['additional_special_tokens'];
    if (Array.isArray(extra)) this.#specialTokens['additional_special_tokens'] = extra.map(tokenContent).filter((x): x is string => x !== null);
    this.eosToken = (this.#specialTokens['eos_token'] as string | undefined) ?? null;
    this.padToken = (this.#specialTokens['pad_token'] as string | undefined) ?? null;
    this.eosTokenId = this.eosToken === null ? null : (this.#vocab.get(this.eosToken) ?? null);
    this.padTokenId = this.padToken === null ? null : (this.#vocab.get(this.padToken) ?? null);
    this.thinkStartId = this.#vocab.get('<think>') ?? null;
    this.thinkEndId = this.#vocab.get('</think>') ?? null;
  }

  /** Token ids of `text`. Qwen3 adds no BOS/EOS either way; addSpecialTokens defaults to false. */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.#tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.#tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  /** The raw token strings (byte-level BPE form, e.g. "ĠYes") → id, added tokens included. */
  getVocab(): Map<string, number> {
    return new Map(this.#vocab);
  }

  /** 1 + the largest id the tokenizer defines (the model's vocab_size may be larger: padding rows) */
  get vocabSize(): number {
    let m = -1;
    for (const id of this.#vocab.values()) if (id > m) m = id;
    return m + 1;
  }

  tokenToId(token: string): number | undefined {
    return this.#vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.#idToToken.get(id);
  }

  /** true for added tokens marked special (skipped by decode with skipSpecialTokens) */
  isSpecial(id: number): boolean {
    return this.#specialIds.has(id);
  }

  get hasChatTemplate(): boolean {
    return this.#template !== null;
  }

  get chatTemplate(): string | null {
    return this.#templateSource;
  }

  /** Render a conversation as text, as transformers' apply_chat_template(tokenize=False). */
  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (this.#template === null) throw new Error(`${this.dir}: the tokenizer has no chat template (tokenizer_config.json "chat_template" or chat_template.jinja)`);
    if (messages.length === 0) throw new Error('applyChatTemplate: no messages');
    if (options.continueFinalMessage === true && options.addGenerationPrompt === true) {
      throw new Error('applyChatTemplate: continueFinalMessage and addGenerationPrompt are not compatible (use continueFinalMessage to continue the last message, addGenerationPrompt to start a new one)');
    }
    const ctx: Record<string, unknown> = {
      ...this.#specialTokens,
      ...(options.extra ?? {}),
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
    };
    if (options.enableThinking !== undefined) ctx['enable_thinking'] = options.enableThinking;
    let rendered = this.#template.render(ctx);
    if (options.continueFinalMessage === true) {
      const final = (messages[messages.length - 1] as ChatMessage).content;
      const stripped = pyStrip(final);
      const loc = rendered.lastIndexOf(stripped);
      if (loc < 0) {
        throw new Error('applyChatTemplate: continueFinalMessage is set but the final message does not appear in the rendered chat (the template changes it)');
      }
      const l = pyLstrip(final).length;
      rendered = rendered.slice(loc, loc + l) === final ? rendered.slice(0, loc + l) : rendered.slice(0, loc + stripped.length);
    }
    return rendered;
  }

  /** applyChatTemplate then encode (no special tokens added: the template writes them). */
  encodeChat(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.applyChatTemplate(messages, options));
  }
}

function readJson(file: string): Json {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: not a JSON object`);
  return raw as Json;
}

const cache = new Map<string, { stamp: string; tok: Tokenizer }>();

/** true when DIR holds tokenizer.json */
export function hasTokenizer(dir: string): boolean {
  return existsSync(join(dir, 'tokenizer.json'));
}

/**
 * Load DIR's tokenizer.json + tokenizer_config.json (+ chat_template.jinja). Cached per directory while the
 * files are unchanged (building the BPE tables takes ~0.5 s for Qwen3).
 */
export function loadTokenizer(dir: string): Tokenizer {
  const abs = resolve(dir);
  const tjPath = join(abs, 'tokenizer.json');
  const tcPath = join(abs, 'tokenizer_config.json');
  const jinjaPath = join(abs, 'chat_template.jinja');
  if (!existsSync(tjPath)) throw new Error(`${abs} has no tokenizer.json (needed to tokenise text; token ids can still be scored)`);
  const stamp = [tjPath, tcPath, jinjaPath].map((p) => (existsSync(p) ? `${statSync(p).mtimeMs}:${statSync(p).size}` : '-')).join('|');
  const hit = cache.get(abs);
  if (hit !== undefined && hit.stamp === stamp) return hit.tok;
  const tj = readJson(tjPath);
  const tc = existsSync(tcPath) ? readJson(tcPath) : {};
  let template: string | null = null;
  const fromConfig = tc['chat_template'];
  if (typeof fromConfig === 'string') template = fromConfig;
  else if (Array.isArray(fromConfig)) {
    // the named-templates form: [{name: "default", template: "..."}, ...]
    const def = fromConfig.find((t) => (t as Json)?.['name'] === 'default') as Json | undefined;
    if (typeof def?.['template'] === 'string') template = def['template'];
  }
  if (template === null && existsSync(jinjaPath)) template = readFileSync(jinjaPath, 'utf8');
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(abs, tj, tc, template);
  } catch (e) {
    throw new Error(`${abs}: cannot build the tokenizer: ${(e as Error).message}`);
  }
  cache.set(abs, { stamp, tok });
  return tok;
}
