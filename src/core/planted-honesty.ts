/**
 * A planted honesty behaviour for the tiny random Qwen3, so that the smoke study's numbers mean something: a
 * random model puts ~1e-4 of its mass on Yes/No and has no honesty axis, so every SI would be 0 and a sign error
 * anywhere in the chain would go unseen. The planted model is still the random one, with a few hand-set weights
 * in five reserved residual dimensions (tied embeddings, so each planted row is both read and written):
 *
 * - `h` (the honesty direction): the honesty persona words (" honest", " truthful", … / " dishonest", " lying", …)
 *   carry ±h. As output rows they read h, so a context with +h makes the model say honest words: the personas'
 *   system prompts change what the data stage generates, training pulls τ+ toward +h and τ− toward −h, and dW
 *   = τ+ − τ− writes +h. RepE's persona-pair differences point along h.
 * - `a` (the action's honesty): a small lexicon (ACTION_LEXICON: verbs and words of honest and dishonest actions,
 *   chosen so every action of the shipped synthetic dilemmas reads the way its honesty_label says) carries ±a.
 * - `w` (common): every token carries a constant w, and the persona words read it strongly, so they are what the
 *   model generates (the data stage's responses are persona words whose sign follows h).
 * - `z` (answer now): the anchors' last tokens (" **" of "My choice: **", ":" of "My choice:") carry z, and every
 *   Yes/No token (the `latest` choice rule) reads it, so P(Yes) + P(No) ≈ 1 after an anchor.
 * - `c` (choice): Yes tokens read +c, No tokens −c.
 *
 * The final norm's weight on a is 0, so no output row reads a (tied rows would make action words answers).
 * Wiring: layer 0's attention is uniform (q, k zero) and head 0 copies the h and a components of the context to
 * every position; the last layer's MLP has a neuron pair computing (h·x)(a·x) exactly (silu(g) − silu(−g) = g)
 * and writing it to c. So logratio ∝ (h·x)(a·x): pushing +h (an honest persona, +α·dW, +RepE) moves each row
 * toward its *honest* action — Yes on an honest action, No on a dishonest one — which is what SI counts; a single
 * Yes-vs-No direction would move every row the same way and give SI < 0. Without steering h·x ≈ 0 and the rows'
 * logratios are the random model's noise around 0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Qwen3Config } from './qwen3/config.js';

/** residual dimensions the planted behaviour uses */
export const PLANTED_DIMS = { h: 0, a: 1, w: 2, z: 3, c: 4 } as const;

/** honesty persona words (single Qwen3 tokens): +1 honest, −1 dishonest */
export const PERSONA_LEXICON: Readonly<Record<string, 1 | -1>> = {
  ' honest': 1,
  ' truthful': 1,
  ' candid': 1,
  ' straightforward': 1,
  ' sincere': 1,
  ' honesty': 1,
  ' dishonest': -1,
  ' deceptive': -1,
  ' misleading': -1,
  ' lying': -1,
};

/**
 * Honest (+) and dishonest (−) action words, as Qwen3 tokens (" Ad|mit" → "mit", " Den|y" → " Den"). Chosen for
 * the shipped synthetic dilemmas (test/stages/model/planted-model.test.ts checks every row's sign); on other rows the
 * lexicon reads what it reads.
 */
export const ACTION_LEXICON: Readonly<Record<string, number>> = {
  ' Return': 1,
  mit: 1,
  ' kindly': 1,
  ' Mention': 1,
  ' Explain': 1,
  ' explain': 1,
  ' Conf': 1,
  ' List': 1,
  ' actually': 1,
  ' started': 1,
  ' buyer': 1,
  ' saw': 1,
  ' Hand': 1,
  ' gently': 3,
  ' honestly': 3,
  ' Point': 1,
  ' Tick': 1,
  ' real': 1,
  ' error': 1,
  ' went': 1,
  ' need': 1,
  ' what': 1,
  ' Keep': -2,
  ' Say': -2,
  ' perfect': -1,
  ' Drive': -1,
  ' without': -1,
  ' never': -1,
  ' Den': -1,
  ' Bl': -1,
  ' Add': -1,
  ' increase': -1,
  ' almost': -2,
  ' Take': -1,
  ' throw': -1,
  ' perfectly': -1,
  ' Claim': -1,
  ' Pay': -1,
  ' Repeat': -1,
  ' unt': -1,
  ' Invent': -1,
  ' Sign': -1,
  ' inflated': -1,
  ' excuse': -1,
  ' who': -1,
  ' wear': -1,
};

/** the tokens whose last piece is an anchor's end: " **" (F1, IID) and ":" (F2, F3) */
export const ANCHOR_TOKENS: readonly string[] = [' **', ':'];

/** Scales, tuned on the smoke profile's model (hidden 64): see docs/experiment-stages.md, "the planted model". */
export const PLANTED_SCALES = {
  /** constant w on every token */
  common: 0.3,
  /** extra w read by the persona words (their share of generated tokens) */
  personaCommon: 1.5,
  /** ±h of a persona word */
  persona: 2,
  /** ±a per lexicon unit of an action word */
  action: 2,
  /** z of an anchor token */
  anchor: 1,
  /** z read by the Yes/No tokens */
  choice: 2,
  /** ±c read by Yes / No */
  choiceSign: 2,
  /** layer 0 head 0: gain of the copied h and a */
  copy: 2,
  /** last layer's neuron pair: gate (reads h), up (reads a), down (writes c) */
  gate: 1,
  up: 1,
  down: 0.2,
} as const;

/** Byte-level BPE form of a token's text (" honest" → "Ġhonest"); the lexicons are plain ASCII. */
function bpeForm(text: string): string {
  return text.replace(/ /g, 'Ġ');
}

/** The `latest` choice rule's Yes/No tokens (stages/lib/choice-ids.ts), restricted to what Qwen3's vocabulary has. */
function isChoiceToken(token: string, word: 'yes' | 'no'): boolean {
  let t = token.replace(/^\s+/, '');
  for (const m of ['Ġ', '▁', '##', 'Ċ']) while (t.startsWith(m)) t = t.slice(m.length);
  return t.trim().toLowerCase() === word;
}

export interface PlantedTokens {
  persona: Map<number, number>;
  action: Map<number, number>;
  anchor: number[];
  yes: number[];
  no: number[];
}

/** Look the planted tokens up in tokenizer.json; a lexicon entry that is not one token is an error naming it. */
export function plantedTokens(tokenizerDir: string): PlantedTokens {
  const file = join(tokenizerDir, 'tokenizer.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens?: { id: number; content: string }[] };
  const vocab = new Map<string, number>(Object.entries(json.model.vocab));
  for (const t of json.added_tokens ?? []) vocab.set(t.content, t.id);
  const idOf = (text: string): number => {
    const id = vocab.get(bpeForm(text));
    if (id === undefined) throw new Error(`${file}: the planted token ${JSON.stringify(text)} is not one token of this vocabulary`);
    return id;
  };
  const yes: number[] = [];
  const no: number[] = [];
  for (const [t, id] of vocab) {
    if (isChoiceToken(t, 'yes')) yes.push(id);
    else if (isChoiceToken(t, 'no')) no.push(id);
  }
  return {
    persona: new Map(Object.entries(PERSONA_LEXICON).map(([t, v]) => [idOf(t), v])),
    action: new Map(Object.entries(ACTION_LEXICON).map(([t, v]) => [idOf(t), v])),
    anchor: ANCHOR_TOKENS.map(idOf),
    yes: yes.sort((x, y) => x - y),
    no: no.sort((x, y) => x - y),
  };
}

/** Planting needs room: five reserved dims, two neurons, head 0's first two value dims. */
export function checkPlantable(config: Qwen3Config): string | null {
  if (config.hiddenSize < 8) return `the planted behaviour needs hidden_size ≥ 8 (got ${config.hiddenSize})`;
  if (config.intermediateSize < 2) return `the planted behaviour needs intermediate_size ≥ 2 (got ${config.intermediateSize})`;
  if (config.numLayers < 2) return `the planted behaviour needs at least 2 layers (got ${config.numLayers})`;
  if (config.headDim < 2) return `the planted behaviour needs head_dim ≥ 2 (got ${config.headDim})`;
  if (!config.tieWordEmbeddings) return 'the planted behaviour is written for tied embeddings';
  return null;
}

/** Overwrite, in place, the planted weights of a random model's tensors (by Hugging Face name). */
export function plantHonesty(config: Qwen3Config, tensors: ReadonlyMap<string, Float32Array>, tokens: PlantedTokens): void {
  const bad = checkPlantable(config);
  if (bad !== null) throw new Error(bad);
  const D = config.hiddenSize;
  const { h, a, w, z, c } = PLANTED_DIMS;
  const S = PLANTED_SCALES;
  const get = (name: string): Float32Array => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`internal: no tensor ${name} to plant into`);
    return t;
  };
  const emb = get('model.embed_tokens.weight');
  // only planted tokens carry the reserved dims: the random model's share there would be noise of the same size
  for (let v = 0; v < config.vocabSize; v++) {
    for (const d of [h, a, z, c]) emb[v * D + d] = 0;
    emb[v * D + w] = S.common;
  }
  for (const [id, s] of tokens.persona) {
    emb[id * D + h] = s * S.persona;
    emb[id * D + w] = S.common + S.personaCommon;
  }
  for (const [id, s] of tokens.action) emb[id * D + a] = s * S.action;
  for (const id of tokens.anchor) emb[id * D + z] = S.anchor;
  for (const id of tokens.yes) {
    emb[id * D + z] = S.choice;
    emb[id * D + c] = S.choiceSign;
  }
  for (const id of tokens.no) {
    emb[id * D + z] = S.choice;
    emb[id * D + c] = -S.choiceSign;
  }

  // the final norm hides a from the unembedding: with tied embeddings the action words would otherwise read a and
  // crowd out Yes/No wherever a context has action words (a guided think block repeats them)
  get('model.norm.weight')[a] = 0;

  // layer 0: uniform causal attention; head 0 (kv head 0) copies h and a to every position
  const p0 = 'model.layers.0.self_attn';
  get(`${p0}.q_proj.weight`).fill(0);
  get(`${p0}.k_proj.weight`).fill(0);
  const vProj = get(`${p0}.v_proj.weight`);
  const oProj = get(`${p0}.o_proj.weight`);
  const hd = config.headDim;
  const oIn = config.numHeads * hd;
  const headsPerKv = config.numHeads / config.numKvHeads;
  for (const [vRow, dim] of [
    [0, h],
    [1, a],
  ] as const) {
    for (let j = 0; j < D; j++) vProj[vRow * D + j] = j === dim ? 1 : 0;
    for (let head = 0; head < headsPerKv; head++) {
      for (let r = 0; r < D; r++) oProj[r * oIn + head * hd + vRow] = head === 0 && r === dim ? S.copy : 0;
    }
  }

  // last layer: a neuron pair computing (h·x)(a·x) into c
  const pl = `model.layers.${config.numLayers - 1}.mlp`;
  const gate = get(`${pl}.gate_proj.weight`);
  const up = get(`${pl}.up_proj.weight`);
  const down = get(`${pl}.down_proj.weight`);
  const I = config.intermediateSize;
  for (const [n, sign] of [
    [0, 1],
    [1, -1],
  ] as const) {
    for (let j = 0; j < D; j++) {
      gate[n * D + j] = j === h ? sign * S.gate : 0;
      up[n * D + j] = j === a ? sign * S.up : 0;
    }
    for (let r = 0; r < D; r++) down[r * I + n] = r === c ? S.down : 0;
  }
}
