/**
 * Behaviours as data: a behaviour's personas and training questions come from `data/behaviors/<name>.yaml` in
 * the project (shipped: honesty, sycophancy). Adding a behaviour is that file plus a matrix edit. The file is read
 * and checked at planning (an external input of the stages that use it, so editing it reruns them) and again by
 * the stage; a misfit is one line `file:line:col: what`.
 *
 * Format (every key required unless marked):
 *   name: honesty                       # must equal the file's base name
 *   description: text                   # optional
 *   persona_template: "Pretend you're {persona} person. "   # {persona} is replaced by each persona phrase
 *   persona_sets:                       # named sets of pairs; pair i is pos[i] with neg[i]
 *     e2: { pos: [an honest, ...], neg: [a dishonest, ...] }
 *   default_persona_set: e2             # the set used when the stage's `personas` param is null
 *   questions:                          # the user turns of data generation
 *     source: pool                      # the question pool's user_msgs (study-ref §2.3), or
 *     source: topics                    # the listed topics, each rendered through template:
 *     template: "I think {claim}. {question}"
 *     topics: [[claim, question], ...]
 *   repe:                               # optional; what RepE is fitted on (default: persona pair 0 of the default set)
 *     prompts: pool | topics            # pool entries with their assistant prefix, or the topics as generation prompts
 *   iid:                                # optional; the in-distribution Yes/No eval (eval-iid with `behavior`)
 *     claims: [claim, ...]              # the held-out claims, in order (eval-iid's n_held_out takes the first n)
 *     template: "I think {claim}. Do you agree? Answer Yes or No."   # optional (study-ref §11's)
 *     anchor: "My answer: **"           # optional (study-ref §11's)
 */
import { readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode, YAMLMap } from 'yaml';
import { err, ok, type Result } from '../../src/contract/result.js';
import { fillTemplate, IID_ANCHOR, IID_PROMPT_TEMPLATE } from './prompts.js';

/** Where a project keeps its behaviour definitions, relative to the project directory. */
export const BEHAVIORS_DIR = 'data/behaviors';

export interface PersonaSet {
  pos: string[];
  neg: string[];
}

export type QuestionSource = { source: 'pool' } | { source: 'topics'; template: string; topics: [claim: string, question: string][] };

export interface BehaviorDefinition {
  name: string;
  description: string | null;
  personaTemplate: string;
  personaSets: Record<string, PersonaSet>;
  defaultPersonaSet: string;
  questions: QuestionSource;
  repePrompts: 'pool' | 'topics';
  /** the held-out Yes/No claims and their prompt (null: the definition has no `iid`) */
  iid: IidClaims | null;
  /** the file it came from, for messages */
  file: string;
}

export interface IidClaims {
  claims: string[];
  /** user turn with {claim} */
  template: string;
  /** assistant prefill the Yes/No token is scored after */
  anchor: string;
}

export function behaviorFile(projectDir: string, behavior: string): string {
  return join(projectDir, BEHAVIORS_DIR, `${behavior}.yaml`);
}

class DefinitionError extends Error {}

/** Read and check a behaviour definition; the error is one line naming the file, line and key. */
export function loadBehaviorDefinition(file: string): Result<BehaviorDefinition, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return err(`${file}: cannot read the behaviour definition (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); a behaviour named in the matrix needs ${BEHAVIORS_DIR}/<name>.yaml (README: adding a behaviour)`);
  }
  return parseBehaviorDefinition(text, file);
}

export function parseBehaviorDefinition(text: string, file: string): Result<BehaviorDefinition, string> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number): string => {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  const first = doc.errors[0];
  if (first !== undefined) return err(`${at(first.pos[0])}: not valid YAML (${first.message.split('\n', 1)[0] ?? ''})`);
  const fail = (node: YamlNode | null | undefined, fallback: number, msg: string): never => {
    throw new DefinitionError(`${at(node?.range?.[0] ?? fallback)}: ${msg}`);
  };
  try {
    const root = doc.contents;
    if (!isMap(root)) return fail(root, 0, 'a behaviour definition is a YAML mapping (name, persona_template, persona_sets, default_persona_set, questions)');
    const known = new Set(['name', 'description', 'persona_template', 'persona_sets', 'default_persona_set', 'questions', 'repe', 'iid']);
    checkKeys(root, known, 'the definition', fail);
    const get = (m: YAMLMap, key: string, where: string, required = true): YamlNode | undefined => {
      const v = m.get(key, true) as YamlNode | undefined;
      if (v === undefined && required) fail(m, 0, `${where}: missing key "${key}"`);
      return v;
    };
    const str = (n: YamlNode | undefined, what: string, nonEmpty = true): string => {
      if (!isScalar(n) || typeof n.value !== 'string') return fail(n, 0, `${what} must be a string`);
      if (nonEmpty && n.value.trim() === '') return fail(n, 0, `${what} is empty`);
      return n.value;
    };
    const strList = (n: YamlNode | undefined, what: string): string[] => {
      if (!isSeq(n) || n.items.length === 0) return fail(n, 0, `${what} must be a non-empty list of strings`);
      return n.items.map((item, i) => str(item as YamlNode, `${what}[${i}]`));
    };

    const nameNode = get(root, 'name', 'the definition');
    const name = str(nameNode, '"name"');
    const stem = basename(file, extname(file));
    if (name !== stem) fail(nameNode, 0, `"name" is ${JSON.stringify(name)} but the file is ${stem}${extname(file)}: they must agree (the matrix names the file)`);
    const descNode = get(root, 'description', 'the definition', false);
    const description = descNode === undefined ? null : str(descNode, '"description"');

    const tplNode = get(root, 'persona_template', 'the definition');
    const personaTemplate = str(tplNode, '"persona_template"');
    if (!personaTemplate.includes('{persona}')) fail(tplNode, 0, '"persona_template" must contain {persona}');
    checkPlaceholders(personaTemplate, ['persona'], tplNode, '"persona_template"', fail);

    const setsNode = get(root, 'persona_sets', 'the definition');
    if (!isMap(setsNode) || setsNode.items.length === 0) return fail(setsNode, 0, '"persona_sets" must be a mapping of set name → {pos, neg}');
    const personaSets: Record<string, PersonaSet> = {};
    for (const pair of setsNode.items) {
      const keyNode = pair.key as YamlNode;
      const setName = str(keyNode, 'a persona set name');
      const v = pair.value as YamlNode | null;
      if (!isMap(v)) return fail(v ?? keyNode, 0, `persona_sets.${setName} must be a mapping {pos: [...], neg: [...]}`);
      checkKeys(v, new Set(['pos', 'neg']), `persona_sets.${setName}`, fail);
      const pos = strList(get(v, 'pos', `persona_sets.${setName}`), `persona_sets.${setName}.pos`);
      const negNode = get(v, 'neg', `persona_sets.${setName}`);
      const neg = strList(negNode, `persona_sets.${setName}.neg`);
      if (pos.length !== neg.length) fail(negNode, 0, `persona_sets.${setName}: ${pos.length} pos personas but ${neg.length} neg (pair i is pos[i] with neg[i])`);
      personaSets[setName] = { pos, neg };
    }
    const defNode = get(root, 'default_persona_set', 'the definition');
    const defaultPersonaSet = str(defNode, '"default_persona_set"');
    if (personaSets[defaultPersonaSet] === undefined) fail(defNode, 0, `"default_persona_set" is ${JSON.stringify(defaultPersonaSet)}; persona_sets has ${Object.keys(personaSets).join(', ')}`);

    const qNode = get(root, 'questions', 'the definition');
    if (!isMap(qNode)) return fail(qNode, 0, '"questions" must be a mapping {source: pool} or {source: topics, template, topics}');
    const srcNode = get(qNode, 'source', 'questions');
    const source = str(srcNode, 'questions.source');
    let questions: QuestionSource;
    if (source === 'pool') {
      checkKeys(qNode, new Set(['source']), 'questions (source: pool)', fail);
      questions = { source: 'pool' };
    } else if (source === 'topics') {
      checkKeys(qNode, new Set(['source', 'template', 'topics']), 'questions (source: topics)', fail);
      const qtNode = get(qNode, 'template', 'questions');
      const template = str(qtNode, 'questions.template');
      checkPlaceholders(template, ['claim', 'question'], qtNode, 'questions.template', fail);
      const topicsNode = get(qNode, 'topics', 'questions');
      if (!isSeq(topicsNode) || topicsNode.items.length === 0) return fail(topicsNode, 0, 'questions.topics must be a non-empty list of [claim, question] pairs');
      const topics = topicsNode.items.map((item, i): [string, string] => {
        const n = item as YamlNode;
        if (!isSeq(n) || n.items.length !== 2) return fail(n, 0, `questions.topics[${i}] must be a pair [claim, question]`);
        return [str(n.items[0] as YamlNode, `questions.topics[${i}][0] (the claim)`), str(n.items[1] as YamlNode, `questions.topics[${i}][1] (the question)`, false)];
      });
      questions = { source: 'topics', template, topics };
    } else {
      return fail(srcNode, 0, `questions.source must be "pool" or "topics", got ${JSON.stringify(source)}`);
    }

    let repePrompts: 'pool' | 'topics' = questions.source;
    const repeNode = get(root, 'repe', 'the definition', false);
    if (repeNode !== undefined) {
      if (!isMap(repeNode)) return fail(repeNode, 0, '"repe" must be a mapping {prompts: pool | topics}');
      checkKeys(repeNode, new Set(['prompts']), 'repe', fail);
      const pNode = get(repeNode, 'prompts', 'repe');
      const p = str(pNode, 'repe.prompts');
      if (p !== 'pool' && p !== 'topics') return fail(pNode, 0, `repe.prompts must be "pool" or "topics", got ${JSON.stringify(p)}`);
      if (p === 'topics' && questions.source !== 'topics') fail(pNode, 0, 'repe.prompts is "topics" but questions.source is not: there are no topics to fit on');
      repePrompts = p;
    }
    let iid: IidClaims | null = null;
    const iidNode = get(root, 'iid', 'the definition', false);
    if (iidNode !== undefined) {
      if (!isMap(iidNode)) return fail(iidNode, 0, '"iid" must be a mapping {claims: [...], template, anchor}');
      checkKeys(iidNode, new Set(['claims', 'template', 'anchor']), 'iid', fail);
      const claims = strList(get(iidNode, 'claims', 'iid'), 'iid.claims');
      const itNode = get(iidNode, 'template', 'iid', false);
      const template = itNode === undefined ? IID_PROMPT_TEMPLATE : str(itNode, 'iid.template');
      if (!template.includes('{claim}')) fail(itNode, 0, 'iid.template must contain {claim}');
      checkPlaceholders(template, ['claim'], itNode, 'iid.template', fail);
      const anNode = get(iidNode, 'anchor', 'iid', false);
      iid = { claims, template, anchor: anNode === undefined ? IID_ANCHOR : str(anNode, 'iid.anchor') };
    }
    return ok({ name, description, personaTemplate, personaSets, defaultPersonaSet, questions, repePrompts, iid, file });
  } catch (e) {
    if (e instanceof DefinitionError) return err(e.message);
    throw e;
  }
}

function checkKeys(m: YAMLMap, known: ReadonlySet<string>, where: string, fail: (n: YamlNode | null | undefined, f: number, msg: string) => never): void {
  for (const pair of m.items) {
    const k = pair.key as YamlNode;
    const name = isScalar(k) ? String(k.value) : '?';
    if (!known.has(name)) fail(k, 0, `${where}: unknown key "${name}" (known: ${[...known].join(', ')})`);
  }
}

function checkPlaceholders(template: string, allowed: readonly string[], node: YamlNode | undefined, what: string, fail: (n: YamlNode | null | undefined, f: number, msg: string) => never): void {
  for (const m of template.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    if (!allowed.includes(m[1] as string)) fail(node, 0, `${what}: unknown placeholder {${m[1] as string}} (allowed: ${allowed.map((a) => `{${a}}`).join(', ')})`);
  }
}

/** The persona set a stage uses: the named one, or the definition's default; throws naming the sets there are. */
export function personaSet(def: BehaviorDefinition, name: string | null): { name: string; set: PersonaSet } {
  const n = name ?? def.defaultPersonaSet;
  const set = def.personaSets[n];
  if (set === undefined) throw new Error(`${def.file}: behaviour ${def.name} has no persona set ${JSON.stringify(n)} (it has ${Object.keys(def.personaSets).join(', ')})`);
  return { name: n, set };
}

/** The system prompt of a persona phrase, e.g. "Pretend you're an honest person. ". */
export function personaPrompt(def: BehaviorDefinition, persona: string): string {
  return fillTemplate(def.personaTemplate, { persona }, `${def.file}: persona_template`);
}

/** The topics' user turns, e.g. "I think the earth is flat. Do you agree?" (topics source only). */
export function topicPrompts(def: BehaviorDefinition): string[] {
  const q = def.questions;
  if (q.source !== 'topics') throw new Error(`${def.file}: behaviour ${def.name} takes its questions from the pool, not from topics`);
  return q.topics.map(([claim, question]) => fillTemplate(q.template, { claim, question }, `${def.file}: questions.template`));
}
