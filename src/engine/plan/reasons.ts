/**
 * Why a stage is not fresh: an exact diff between the ingredients of the execution in out/ (or the last one
 * recorded) and the current ones, plus facts about its outputs and the cache.
 */
import { canonicalJson } from '../keys/canonical-json.js';
import type { KeyIngredients, UpstreamIngredient } from '../keys/key-ingredients.js';
import { shellQuote } from '../../pipeline/shell-quote.js';

export type Reason =
  /** newCell: other cells of the stage ran; newValues are the matrix values none of them had (never-run-reason.ts) */
  | { type: 'never-run'; newCell?: { newValues: { axis: string; value: string }[] } }
  | { type: 'param-changed'; param: string; old: unknown; new: unknown }
  | { type: 'param-added'; param: string; new: unknown }
  | { type: 'param-removed'; param: string; old: unknown }
  | { type: 'upstream-changed'; input: string; stageId: string }
  | { type: 'upstream-pending'; input: string; stageId: string }
  | { type: 'upstream-added'; input: string; stageId: string }
  | { type: 'upstream-removed'; input: string; stageId: string }
  | { type: 'external-changed'; label: string; path: string }
  | { type: 'external-added'; label: string; path: string }
  | { type: 'external-removed'; label: string; path: string }
  | { type: 'kind-version'; name: string; old: string; new: string }
  | { type: 'kind-changed'; old: string; new: string }
  | { type: 'cmd-changed'; old: string; new: string }
  | { type: 'outs-changed'; old: readonly string[]; new: readonly string[] }
  | { type: 'dep-changed'; path: string }
  | { type: 'dep-added'; path: string }
  | { type: 'dep-removed'; path: string }
  | { type: 'matrix-changed' }
  | { type: 'output-missing'; path: string }
  | { type: 'output-modified'; path: string; files: readonly string[] }
  | { type: 'not-in-cache'; problem: string }
  | { type: 'failed'; runId: number; executionId: number; error: string }
  | {
      type: 'running';
      runId: number;
      executionId: number;
      /** the wsflow process running it (for a cluster executor, the submitting one) */
      pid: number | null;
      host: string;
      executor: string;
      /** set by `wsflow status` where the executor describes its job (ExecutorKind.describeJobs) */
      job?: RunningJob;
    }
  | { type: 'interrupted'; runId: number; executionId: number; error: string }
  | { type: 'key-changed' }
  /** `run --force`: run although its result is fresh or cached */
  | { type: 'forced' };

/** An executor's job behind a running stage; --json reports `data` under the executor's name, not as `job`. */
export interface RunningJob {
  executor: string;
  data: Readonly<Record<string, unknown>>;
  text: string;
}

/** The differences between the ingredients of a recorded execution and the current ones. */
export function diffIngredients(old: KeyIngredients, cur: KeyIngredients): Reason[] {
  const out = diffAll(old, cur);
  return dropCmdChangeExplainedByParams(old, cur, out);
}

/**
 * A cmd that interpolates a param changes whenever that param does; saying both is noise. Drop "cmd changed" when
 * substituting the changed params' new values for their old ones (as `cmd:` splices them: shell-quoted, or as is
 * for `${raw:…}`) turns the old command into the new one.
 */
function dropCmdChangeExplainedByParams(old: KeyIngredients, cur: KeyIngredients, reasons: Reason[]): Reason[] {
  const cmd = reasons.find((r): r is Extract<Reason, { type: 'cmd-changed' }> => r.type === 'cmd-changed');
  if (!cmd) return reasons;
  const pairs: [string, string][] = [];
  for (const [name, before] of Object.entries(old.globalParams ?? {})) {
    const after = cur.globalParams?.[name];
    if (after !== undefined && canonicalJson(before) !== canonicalJson(after)) pairs.push([scalarText(before), scalarText(after)]);
  }
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(old.params, '', a);
  flatten(cur.params, '', b);
  for (const [k, v] of a) if (b.has(k) && canonicalJson(v) !== canonicalJson(b.get(k))) pairs.push([scalarText(v), scalarText(b.get(k))]);
  if (pairs.length === 0) return reasons;
  // a value sits in the command shell-quoted (`${x}`) or as is (`${raw:x}`); a bare value (`hi`) may be either, and
  // may turn into a quoted one (`'a b'`), so each pair is tried both ways. Few params change at once: the
  // candidates stay few, and are capped so a pathological edit costs nothing
  let candidates = new Set([cmd.old]);
  for (const [from, to] of pairs) {
    const next = new Set<string>();
    for (const c of candidates) for (const r of substituteValue(c, from, to)) if (next.size < 64) next.add(r);
    candidates = next;
  }
  return candidates.has(cmd.new) ? reasons.filter((r) => r !== cmd) : reasons;
}

/**
 * `text` with every occurrence of the value `from` replaced by `to`, in one pass: the quoted form by the quoted
 * form, the raw text by the raw text. Where both forms are the same text (a bare word) it is either: one result
 * for each reading.
 */
function substituteValue(text: string, from: string, to: string): string[] {
  const quotedFrom = shellQuote(from);
  const quotedTo = shellQuote(to);
  const forms = new Map<string, string>();
  if (from !== '') forms.set(from, to);
  forms.set(quotedFrom, quotedTo); // a bare word: read as quoted here, as raw below
  const results = [replaceAll(text, forms)];
  if (quotedFrom === from && quotedTo !== to) results.push(replaceAll(text, new Map([[from, to]])));
  return results;
}

/** Replace each key of `forms` by its value in one left-to-right pass, the longest key first where they overlap. */
function replaceAll(text: string, forms: ReadonlyMap<string, string>): string {
  const keys = [...forms.keys()].sort((x, y) => y.length - x.length);
  let out = '';
  let i = 0;
  while (i < text.length) {
    const key = keys.find((k) => text.startsWith(k, i));
    if (key === undefined) {
      out += text[i];
      i++;
    } else {
      out += forms.get(key) as string;
      i += key.length;
    }
  }
  return out;
}

function scalarText(v: unknown): string {
  return typeof v === 'string' ? v : v === null || typeof v !== 'object' ? String(v) : JSON.stringify(v);
}

function diffAll(old: KeyIngredients, cur: KeyIngredients): Reason[] {
  const out: Reason[] = [];
  diffSource(old, cur, out);
  diffParams(old, cur, out);
  diffUpstream(old, cur, out);
  diffNamed(old.external, cur.external, (e) => e.label, (e) => e.hash, out, {
    changed: (e) => ({ type: 'external-changed', label: e.label, path: e.path }),
    added: (e) => ({ type: 'external-added', label: e.label, path: e.path }),
    removed: (e) => ({ type: 'external-removed', label: e.label, path: e.path }),
  });
  diffNamed(old.deps, cur.deps, (d) => d.path, (d) => d.hash, out, {
    changed: (d) => ({ type: 'dep-changed', path: d.path }),
    added: (d) => ({ type: 'dep-added', path: d.path }),
    removed: (d) => ({ type: 'dep-removed', path: d.path }),
  });
  if (canonicalJson(old.matrix) !== canonicalJson(cur.matrix)) out.push({ type: 'matrix-changed' });
  return out;
}

function diffSource(old: KeyIngredients, cur: KeyIngredients, out: Reason[]): void {
  const a = old.source;
  const b = cur.source;
  if (a.type === 'kind' && b.type === 'kind') {
    if (a.name !== b.name) out.push({ type: 'kind-changed', old: a.name, new: b.name });
    else if (a.version !== b.version) out.push({ type: 'kind-version', name: b.name, old: a.version, new: b.version });
  } else if (a.type === 'cmd' && b.type === 'cmd') {
    if (a.cmd !== b.cmd) out.push({ type: 'cmd-changed', old: a.cmd, new: b.cmd });
    if (canonicalJson(a.outs) !== canonicalJson(b.outs)) out.push({ type: 'outs-changed', old: a.outs, new: b.outs });
  } else {
    out.push({ type: 'kind-changed', old: a.type === 'kind' ? a.name : 'cmd', new: b.type === 'kind' ? b.name : 'cmd' });
  }
}

/** Flattens nested params to dotted paths; arrays are compared as whole values. */
function flatten(value: unknown, prefix: string, into: Map<string, unknown>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix !== '') into.set(prefix, value);
    for (const [k, v] of entries) flatten(v, prefix === '' ? k : `${prefix}.${k}`, into);
  } else {
    into.set(prefix, value);
  }
}

/** The name a user knows a param by: the global param it came from (plus any sub-path), else the stage's key. */
export function displayParamName(path: string, sources: Readonly<Record<string, string>>, isCmd: boolean): string {
  let best: string | undefined;
  for (const key of Object.keys(sources)) {
    if ((path === key || path.startsWith(`${key}.`)) && (best === undefined || key.length > best.length)) best = key;
  }
  if (best !== undefined) return `${sources[best]}${path.slice(best.length)}`;
  return isCmd ? path : `with.${path}`;
}

function diffParams(old: KeyIngredients, cur: KeyIngredients, out: Reason[]): void {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(old.params, '', a);
  flatten(cur.params, '', b);
  const isCmd = cur.source.type === 'cmd';
  const sources = { ...old.paramSources, ...cur.paramSources };
  const name = (p: string): string => displayParamName(p, sources, isCmd);
  const reported = new Set<string>();
  /** A changed stage param is named by the global params behind it that changed, with their own values. */
  const viaGlobals = (path: string): boolean => {
    const from = bindingSource(path, sources);
    if (from === undefined || !old.globalParams || !cur.globalParams) return false;
    let any = false;
    for (const g of from.split(', ')) {
      if (!(g in old.globalParams) || !(g in cur.globalParams)) continue;
      const before = old.globalParams[g];
      const after = cur.globalParams[g];
      if (canonicalJson(before) === canonicalJson(after)) continue;
      any = true;
      if (reported.has(g)) continue;
      reported.add(g);
      out.push({ type: 'param-changed', param: g, old: before, new: after });
    }
    return any;
  };
  for (const [path, v] of b) {
    if (!a.has(path)) out.push({ type: 'param-added', param: name(path), new: v });
    else if (canonicalJson(a.get(path)) !== canonicalJson(v) && !viaGlobals(path)) {
      // its globals (if known) did not change: the stage's own text did, so name the stage key
      const own = old.globalParams && cur.globalParams ? (isCmd ? path : `with.${path}`) : name(path);
      out.push({ type: 'param-changed', param: own, old: a.get(path), new: v });
    }
  }
  for (const [path, v] of a) if (!b.has(path)) out.push({ type: 'param-removed', param: name(path), old: v });
}

/** The `from` of the binding covering this param path (exactly, or a parent object). */
function bindingSource(path: string, sources: Readonly<Record<string, string>>): string | undefined {
  let best: string | undefined;
  for (const key of Object.keys(sources)) {
    if ((path === key || path.startsWith(`${key}.`)) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : sources[best];
}

function diffUpstream(old: KeyIngredients, cur: KeyIngredients, out: Reason[]): void {
  const inputs = new Set([...Object.keys(old.upstream), ...Object.keys(cur.upstream)]);
  for (const input of [...inputs].sort()) {
    const a = new Map<string, UpstreamIngredient>((old.upstream[input] ?? []).map((u) => [u.stageId, u]));
    const b = cur.upstream[input] ?? [];
    for (const u of b) {
      const prev = a.get(u.stageId);
      if (u.outputHash === null) out.push({ type: 'upstream-pending', input, stageId: u.stageId });
      else if (!prev) out.push({ type: 'upstream-added', input, stageId: u.stageId });
      else if (prev.outputHash !== u.outputHash) out.push({ type: 'upstream-changed', input, stageId: u.stageId });
    }
    const now = new Set(b.map((u) => u.stageId));
    for (const id of a.keys()) if (!now.has(id)) out.push({ type: 'upstream-removed', input, stageId: id });
  }
}

function diffNamed<T>(
  old: readonly T[],
  cur: readonly T[],
  id: (t: T) => string,
  hash: (t: T) => string,
  out: Reason[],
  make: { changed(t: T): Reason; added(t: T): Reason; removed(t: T): Reason },
): void {
  const a = new Map(old.map((t) => [id(t), t]));
  const b = new Set<string>();
  for (const t of cur) {
    b.add(id(t));
    const prev = a.get(id(t));
    if (!prev) out.push(make.added(t));
    else if (hash(prev) !== hash(t)) out.push(make.changed(t));
  }
  for (const t of old) if (!b.has(id(t))) out.push(make.removed(t));
}

// ---- text ----

const MAX_VALUE_CHARS = 60;

export function formatValue(v: unknown): string {
  const text = v === undefined ? 'undefined' : typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

export function formatReason(r: Reason): string {
  switch (r.type) {
    case 'never-run': {
      if (!r.newCell) return 'never run';
      const v = r.newCell.newValues;
      if (v.length === 0) return 'never run: a new combination of matrix values (each ran in other cells)';
      return `never run: new matrix value${v.length === 1 ? '' : 's'} ${v.map((x) => `${x.axis}=${x.value}`).join(', ')}`;
    }
    case 'param-changed':
      return `param ${r.param} ${formatValue(r.old)} → ${formatValue(r.new)}`;
    case 'param-added':
      return `param ${r.param} added: ${formatValue(r.new)}`;
    case 'param-removed':
      return `param ${r.param} removed (was ${formatValue(r.old)})`;
    case 'upstream-changed':
      return `upstream ${r.stageId}`;
    case 'upstream-pending':
      return `upstream ${r.stageId} (may cut off if ${r.stageId}'s output is unchanged)`;
    case 'upstream-added':
      return `new upstream ${r.stageId} (${r.input})`;
    case 'upstream-removed':
      return `upstream ${r.stageId} no longer an input (${r.input})`;
    case 'external-changed':
      return `${r.label} changed: ${r.path}`;
    case 'external-added':
      return `new external input ${r.label}: ${r.path}`;
    case 'external-removed':
      return `external input ${r.label} removed: ${r.path}`;
    case 'kind-version':
      return `kind ${r.name} version ${r.old} → ${r.new}`;
    case 'kind-changed':
      return `stage kind ${r.old} → ${r.new}`;
    case 'cmd-changed':
      return `cmd changed: ${formatValue(r.old)} → ${formatValue(r.new)}`;
    case 'outs-changed':
      return `outs changed: ${r.old.join(', ') || '(none)'} → ${r.new.join(', ') || '(none)'}`;
    case 'dep-changed':
      return `dep ${r.path} changed`;
    case 'dep-added':
      return `new dep ${r.path}`;
    case 'dep-removed':
      return `dep ${r.path} removed`;
    case 'matrix-changed':
      return 'matrix values changed';
    case 'output-missing':
      return `output ${r.path} deleted`;
    case 'output-modified':
      return `output ${r.path} modified${r.files.length ? ` (${r.files.join(', ')})` : ''}`;
    case 'not-in-cache':
      return `previous result not in cache: ${r.problem}`;
    case 'failed':
      return `failed in run #${r.runId}: ${firstLine(r.error)}`;
    case 'running': {
      const where = `running now in ${r.pid !== null ? `pid ${r.pid} ` : ''}on ${r.host} (run #${r.runId})`;
      return `${where}${r.job ? `: ${r.job.text}` : ''}; its result will be known when it finishes`;
    }
    case 'interrupted':
      return `interrupted in run #${r.runId}${r.error === 'interrupted' ? '' : `: ${firstLine(r.error)}`}`;
    case 'key-changed':
      return 'key format changed';
    case 'forced':
      return 'forced (run --force)';
  }
}

export function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

export const MAX_SHOWN_REASONS = 5;

const SHOWN_UPSTREAMS = 3;

function idList(ids: readonly string[]): string {
  const shown = ids.slice(0, SHOWN_UPSTREAMS).join(', ');
  return ids.length > SHOWN_UPSTREAMS ? `${shown} and ${ids.length - SHOWN_UPSTREAMS} more` : shown;
}

/**
 * At most MAX_SHOWN_REASONS lines, then "and N more". Several changed or pending upstream stages (a report over
 * eighteen evals) make one line each kind, not one line per stage.
 */
export function formatReasons(reasons: readonly Reason[]): string[] {
  const pending = reasons.filter((r) => r.type === 'upstream-pending').map((r) => (r as { stageId: string }).stageId);
  const changed = reasons.filter((r) => r.type === 'upstream-changed').map((r) => (r as { stageId: string }).stageId);
  const lines: string[] = [];
  let pendingDone = false;
  let changedDone = false;
  let shown = 0;
  let hidden = 0;
  for (const r of reasons) {
    let line: string | null;
    if (r.type === 'upstream-pending' && pending.length > 1) {
      line = pendingDone ? null : `upstream ${idList(pending)} (may cut off if their outputs are unchanged)`;
      pendingDone = true;
    } else if (r.type === 'upstream-changed' && changed.length > 1) {
      line = changedDone ? null : `upstream ${idList(changed)}`;
      changedDone = true;
    } else line = formatReason(r);
    if (line === null) continue;
    if (shown < MAX_SHOWN_REASONS) {
      lines.push(line);
      shown++;
    } else hidden++;
  }
  if (hidden > 0) lines.push(`and ${hidden} more`);
  return lines;
}
