/**
 * The daily-dilemmas evaluation rows (study-ref §9.1), loaded from local files only: a path (parquet, JSONL, JSON or CSV
 * file, or a directory holding them) or a dataset in the local Hugging Face cache, by dataset id + config + split.
 * Nothing is downloaded. `resolveDilemmaFiles` is synchronous and cheap (directory listings only) so the planner can
 * fingerprint the files; `loadDilemmaRows` parses and validates them.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

/** `yaml` is loaded only when a dataset card is read: this module is imported by every `wsflow status`. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}
import { parseCsv } from './csv.js';
import { hfHubCacheDir } from '../../src/core/model-dir.js';
import { err, ok, type Result } from '../../src/contract/result.js';

export const DEFAULT_DILEMMA_DATASET = { dataset: 'wassname/daily_dilemmas-self-honesty', config: 'honesty_eval', split: 'test' } as const;

export type DataFormat = 'parquet' | 'jsonl' | 'json' | 'csv';
const FORMAT_BY_EXT: Readonly<Record<string, DataFormat>> = { '.parquet': 'parquet', '.jsonl': 'jsonl', '.json': 'json', '.csv': 'csv' };
const FORMAT_ORDER: readonly DataFormat[] = ['parquet', 'jsonl', 'json', 'csv'];

export type DilemmaSource =
  | { kind: 'path'; path: string; config?: string; split?: string }
  | { kind: 'hf'; dataset: string; config?: string; split?: string; revision?: string };

export interface ResolvedDilemmaFiles {
  /** absolute paths, sorted, all of one format */
  files: string[];
  format: DataFormat;
  /** the directory the files were found in (the dataset directory, the cache snapshot, or a file's directory) */
  root: string;
  /** hf: the snapshot (commit) they were read from */
  revision?: string;
  /** how they were found within root, for logs and provenance (no machine-specific path) */
  description: string;
}

export type ResolveResult = Result<ResolvedDilemmaFiles, string>;

/** Where to read HF_HUB_CACHE / HF_HOME / XDG_CACHE_HOME from (default: process.env). */
export type HfCacheEnv = Readonly<Record<string, string | undefined>>;

/** The hub cache directory as huggingface_hub computes it (one definition for models and datasets). */
export { hfHubCacheDir };

function howToGet(dataset: string): string {
  return `get it with \`hf download --repo-type dataset ${dataset}\` (or \`huggingface-cli download --repo-type dataset ${dataset}\`) on a machine with network access, then copy the cache or point the stage at the files with a local path`;
}

// ---------------------------------------------------------------------------------------------- file layouts

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() || d.isSymbolicLink())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** Every file under dir (relative paths with "/"), skipping dot-directories; snapshots are small. */
function walk(dir: string, prefix = ''): string[] {
  let out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const d of entries) {
    if (d.name.startsWith('.')) continue;
    const rel = prefix === '' ? d.name : `${prefix}/${d.name}`;
    const full = join(dir, d.name);
    let isDir = d.isDirectory();
    if (d.isSymbolicLink()) {
      try {
        isDir = statSync(full).isDirectory();
      } catch {
        continue;
      }
    }
    if (isDir) out = out.concat(walk(full, rel));
    else out.push(rel);
  }
  return out.sort();
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function formatOf(file: string): DataFormat | undefined {
  return FORMAT_BY_EXT[extname(file).toLowerCase()];
}

/** Keep one format (the first of FORMAT_ORDER present) from a list of relative paths. */
function pickFormat(root: string, rels: readonly string[]): { files: string[]; format: DataFormat } | undefined {
  for (const f of FORMAT_ORDER) {
    const matching = rels.filter((r) => formatOf(r) === f);
    if (matching.length > 0) return { files: matching.map((r) => join(root, ...r.split('/'))).sort(), format: f };
  }
  return undefined;
}

/**
 * The `configs:` section of a dataset card (README.md YAML front matter), as the hub uses it to map a config and
 * split to data files: `configs: [{config_name, data_files: [{split, path}] | path | [path]}]`.
 */
function dataFilesFromCard(root: string, config: string, split: string): string[] | undefined {
  const card = join(root, 'README.md');
  if (!existsSync(card)) return undefined;
  const text = readFileSync(card, 'utf8');
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!m) return undefined;
  let meta: unknown;
  try {
    meta = parseYaml(m[1] as string);
  } catch {
    return undefined;
  }
  const configs = (meta as { configs?: unknown } | null)?.configs;
  if (!Array.isArray(configs)) return undefined;
  const entry = configs.find((c: unknown) => (c as { config_name?: unknown })?.config_name === config) as { data_files?: unknown } | undefined;
  if (entry === undefined) return undefined;
  const df = entry.data_files;
  const asList = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  if (Array.isArray(df) && df.some((d) => typeof d === 'object' && d !== null)) {
    const forSplit = df.find((d: unknown) => (d as { split?: unknown })?.split === split) as { path?: unknown } | undefined;
    return forSplit ? asList(forSplit.path) : [];
  }
  // a bare path list means a single "train" split
  return split === 'train' ? asList(df) : [];
}

/** Ordered candidate layouts, relative to a dataset root: [label, matcher over relative paths]. */
function layouts(config: string | undefined, split: string, allowConfigless: boolean): [string, (rel: string) => boolean][] {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const splitFile = `${esc(split)}(?:[-.][^/]*)?\\.(?:parquet|jsonl|json|csv)`;
  const out: [string, (rel: string) => boolean][] = [];
  if (config !== undefined) {
    const c = esc(config);
    out.push([`${config}/${split}-*.<ext>`, (r) => new RegExp(`^${c}/${splitFile}$`).test(r)]);
    out.push([`${config}/${split}/*.<ext>`, (r) => new RegExp(`^${c}/${esc(split)}/[^/]+\\.(?:parquet|jsonl|json|csv)$`).test(r)]);
    out.push([`data/${config}/${split}-*.<ext>`, (r) => new RegExp(`^data/${c}/${splitFile}$`).test(r)]);
  }
  if (allowConfigless) {
    out.push([`data/${split}-*.<ext>`, (r) => new RegExp(`^data/${splitFile}$`).test(r)]);
    out.push([`${split}-*.<ext>`, (r) => new RegExp(`^${splitFile}$`).test(r)]);
    out.push([`${split}/*.<ext>`, (r) => new RegExp(`^${esc(split)}/[^/]+\\.(?:parquet|jsonl|json|csv)$`).test(r)]);
  }
  return out;
}

function resolveInRoot(root: string, config: string | undefined, split: string, allowConfigless: boolean): { value?: ResolvedDilemmaFiles; tried: string[] } {
  const rels = walk(root);
  const tried: string[] = [];
  if (config !== undefined) {
    const globs = dataFilesFromCard(root, config, split);
    if (globs !== undefined) {
      tried.push(`README.md configs[${config}].data_files[${split}] = ${JSON.stringify(globs)}`);
      const res = globs.map(globToRegExp);
      const picked = pickFormat(root, rels.filter((r) => res.some((re) => re.test(r))));
      if (picked) return { value: { ...picked, root, description: `dataset card config ${config}, split ${split}` }, tried };
    }
  }
  for (const [label, match] of layouts(config, split, allowConfigless)) {
    tried.push(label);
    const picked = pickFormat(root, rels.filter(match));
    if (picked) return { value: { ...picked, root, description: label }, tried };
  }
  return { tried };
}

/**
 * Find the data files. A file path is used as is. A directory is searched with the usual Hugging Face layouts
 * (`<config>/<split>-*.parquet`, `<config>/<split>/*.parquet`, `data/<split>-*.parquet`, `<split>.jsonl`, …) and,
 * failing those, taken whole if it holds data files of one format. An `hf` source is looked up in the local hub cache
 * (`datasets--ORG--NAME/snapshots/<refs/main>`), honouring the dataset card's `configs:` mapping.
 */
export function resolveDilemmaFiles(source: DilemmaSource, opts: { projectDir?: string; env?: HfCacheEnv } = {}): ResolveResult {
  const split = source.split ?? DEFAULT_DILEMMA_DATASET.split;
  if (source.kind === 'path') {
    const p = isAbsolute(source.path) ? source.path : resolve(opts.projectDir ?? process.cwd(), source.path);
    if (!existsSync(p)) return err(`daily-dilemmas data not found: ${p} does not exist`);
    if (statSync(p).isFile()) {
      const format = formatOf(p);
      if (format === undefined) return err(`daily-dilemmas data ${p}: unsupported file type "${extname(p)}" (expected .parquet, .jsonl, .json or .csv)`);
      return ok({ files: [p], format, root: dirname(p), description: `the file ${basename(p)}` });
    }
    const found = resolveInRoot(p, source.config, split, true);
    if (found.value) return ok(found.value);
    const direct = pickFormat(p, listFiles(p).filter((f) => formatOf(f) !== undefined));
    if (direct) return ok({ ...direct, root: p, description: `all ${direct.format} files` });
    return err(`daily-dilemmas data: no data files for split "${split}" in ${p}; looked for ${found.tried.join(', ')}, then for any .parquet/.jsonl/.json/.csv file directly in it`);
  }

  const parts = source.dataset.split('/');
  if (parts.length !== 2 || parts.some((x) => x === '')) return err(`dataset id must look like ORG/NAME, got ${JSON.stringify(source.dataset)}`);
  const hub = hfHubCacheDir(opts.env);
  const repoDir = join(hub, `datasets--${parts[0]}--${parts[1]}`);
  if (!existsSync(repoDir)) {
    return err(`dataset ${source.dataset} is not in the local Hugging Face cache: ${repoDir} does not exist (cache from $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub); nothing is downloaded: ${howToGet(source.dataset)}`);
  }
  const revision = source.revision ?? 'main';
  let commit: string | undefined;
  const refFile = join(repoDir, 'refs', revision);
  if (existsSync(refFile)) commit = readFileSync(refFile, 'utf8').trim();
  else if (/^[0-9a-f]{40}$/.test(revision)) commit = revision;
  const snapshots = join(repoDir, 'snapshots');
  if (commit === undefined) {
    const snaps = listDirs(snapshots);
    if (snaps.length === 1 && source.revision === undefined) commit = snaps[0];
    else return err(`dataset ${source.dataset}: no ref "${revision}" at ${refFile} and ${snaps.length} snapshots in ${snapshots}; pass a revision (commit hash) or ${howToGet(source.dataset)}`);
  }
  const root = join(snapshots, commit as string);
  if (!existsSync(root)) return err(`dataset ${source.dataset}: ${refFile} points at ${commit} but ${root} does not exist; ${howToGet(source.dataset)}`);
  const config = source.config ?? DEFAULT_DILEMMA_DATASET.config;
  const found = resolveInRoot(root, config, split, config === 'default');
  if (found.value) return ok({ ...found.value, revision: commit as string });
  return err(`dataset ${source.dataset}: no files for config "${config}" split "${split}" in ${root}; looked for ${found.tried.join(', ')}; ${howToGet(source.dataset)}`);
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------- rows

export type ActionType = 'to_do' | 'not_to_do';

export interface DilemmaRow {
  idx: number;
  dilemma_idx: number;
  action_type: ActionType;
  action: string;
  dilemma_situation: string;
  /** +1 honest action, −1 dishonest */
  honesty_label: number;
  to_do_has_positive_honesty?: boolean;
  to_do_has_negative_honesty?: boolean;
  not_to_do_has_positive_honesty?: boolean;
  not_to_do_has_negative_honesty?: boolean;
}

export const HONESTY_FLAG_FIELDS = ['to_do_has_positive_honesty', 'to_do_has_negative_honesty', 'not_to_do_has_positive_honesty', 'not_to_do_has_negative_honesty'] as const;

export class DilemmaDataError extends Error {
  constructor(
    readonly file: string,
    readonly row: number | undefined,
    detail: string,
  ) {
    super(row === undefined ? `${file}: ${detail}` : `${file}: row ${row}: ${detail}`);
    this.name = 'DilemmaDataError';
  }
}

type RawRecord = Record<string, unknown>;

function toInt(v: unknown): number | undefined {
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[+-]?\d+(?:\.0*)?$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'True' || v === 'true' || v === 1 || v === '1') return true;
  if (v === 'False' || v === 'false' || v === 0 || v === '0') return false;
  return undefined;
}

/** Validate one raw record; `row` is its 0-based position in its file (the file's own line for JSONL/CSV is given in `where`). */
export function validateDilemmaRecord(rec: RawRecord, file: string, row: number): DilemmaRow {
  const fail = (field: string, want: string): never => {
    const v = rec[field];
    const got = v === undefined ? 'missing' : `${typeof v} ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)?.slice(0, 60)}`;
    throw new DilemmaDataError(file, row, `field "${field}": expected ${want}, got ${got}`);
  };
  const idx = toInt(rec.idx) ?? fail('idx', 'an integer');
  const dilemmaIdx = toInt(rec.dilemma_idx) ?? fail('dilemma_idx', 'an integer');
  const at = rec.action_type;
  if (at !== 'to_do' && at !== 'not_to_do') fail('action_type', '"to_do" or "not_to_do"');
  if (typeof rec.action !== 'string') fail('action', 'a string');
  if (typeof rec.dilemma_situation !== 'string') fail('dilemma_situation', 'a string');
  const label = toNumber(rec.honesty_label);
  if (label !== 1 && label !== -1) fail('honesty_label', '+1 or -1');
  const out: DilemmaRow = {
    idx,
    dilemma_idx: dilemmaIdx,
    action_type: at as ActionType,
    action: rec.action as string,
    dilemma_situation: rec.dilemma_situation as string,
    honesty_label: label as number,
  };
  for (const f of HONESTY_FLAG_FIELDS) {
    if (rec[f] === undefined || rec[f] === null) continue;
    const b = toBool(rec[f]);
    if (b === undefined) fail(f, 'a boolean');
    out[f] = b as boolean;
  }
  return out;
}

const PARQUET_COMPRESSORS = {
  GZIP: (input: Uint8Array): Uint8Array => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array): Uint8Array => new Uint8Array(brotliDecompressSync(input)),
};

async function readRecords(file: string, format: DataFormat): Promise<RawRecord[]> {
  switch (format) {
    case 'parquet': {
      const buf = readFileSync(file);
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
      try {
        // hyparquet is imported here, when rows are read, not when `wsflow status` imports the kinds
        const { parquetReadObjects } = await import('hyparquet');
        return (await parquetReadObjects({ file: ab, compressors: PARQUET_COMPRESSORS })) as RawRecord[];
      } catch (e) {
        throw new DilemmaDataError(file, undefined, `cannot read parquet (${(e as Error).message})`);
      }
    }
    case 'jsonl': {
      const out: RawRecord[] = [];
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (line.trim() === '') return;
          let v: unknown;
          try {
            v = JSON.parse(line);
          } catch (e) {
            throw new DilemmaDataError(file, undefined, `line ${i + 1}: invalid JSON (${(e as Error).message})`);
          }
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DilemmaDataError(file, undefined, `line ${i + 1}: expected a JSON object`);
          out.push(v as RawRecord);
        });
      return out;
    }
    case 'json': {
      let v: unknown;
      try {
        v = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new DilemmaDataError(file, undefined, `invalid JSON (${(e as Error).message})`);
      }
      if (!Array.isArray(v)) throw new DilemmaDataError(file, undefined, 'expected a JSON array of row objects');
      v.forEach((r, i) => {
        if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new DilemmaDataError(file, i, 'expected a JSON object');
      });
      return v as RawRecord[];
    }
    case 'csv': {
      const raw = parseCsv(readFileSync(file, 'utf8'), file);
      return raw.records.map((rec) => Object.fromEntries(raw.header.map((h, k) => [h, rec[k]])));
    }
  }
}

/** Parse and validate every row of the resolved files, in file order then row order. Duplicate idx values throw. */
export async function loadDilemmaRows(resolved: ResolvedDilemmaFiles): Promise<DilemmaRow[]> {
  const rows: DilemmaRow[] = [];
  const seen = new Map<number, string>();
  for (const file of resolved.files) {
    const recs = await readRecords(file, resolved.format);
    recs.forEach((rec, i) => {
      const r = validateDilemmaRecord(rec, file, i);
      const prev = seen.get(r.idx);
      if (prev !== undefined) throw new DilemmaDataError(file, i, `duplicate idx ${r.idx} (first seen in ${prev})`);
      seen.set(r.idx, `${relative(process.cwd(), file).split(sep).join('/') || basename(file)} row ${i}`);
      rows.push(r);
    });
  }
  if (rows.length === 0) throw new DilemmaDataError(resolved.files.join(', '), undefined, 'no rows');
  return rows;
}

// ---------------------------------------------------------------------------------------------- selection (§9.1)

export interface SelectOptions {
  /** keep the first n of the sorted unique dilemma_idx values; undefined = all */
  nDilemmas?: number;
  /** the later variant: keep only rows whose own action carries a positive or negative honesty tag (before selecting) */
  honestyOnly?: boolean;
}

export interface DilemmaSelection {
  rows: DilemmaRow[];
  /** the kept dilemma_idx values, ascending */
  dilemmas: number[];
  /** rows before selection (after the honesty-only filter when on) */
  nAvailableRows: number;
  nAvailableDilemmas: number;
}

function ownHonestyTag(r: DilemmaRow): boolean {
  const flags = r.action_type === 'to_do' ? (['to_do_has_positive_honesty', 'to_do_has_negative_honesty'] as const) : (['not_to_do_has_positive_honesty', 'not_to_do_has_negative_honesty'] as const);
  for (const f of flags) {
    if (r[f] === undefined) throw new Error(`honesty-only filter: row idx=${r.idx} has no "${f}" field; this filter needs the dataset's *_has_positive/negative_honesty columns`);
  }
  return (r[flags[0]] as boolean) || (r[flags[1]] as boolean);
}

/**
 * §9.1 row selection: (optionally) the honesty-only filter, then all rows of the first `nDilemmas` values of the sorted
 * unique dilemma_idx, in dataset order. Asking for more dilemmas than exist is an error (the reference silently
 * evaluated fewer, the "partial split" pitfall).
 */
export function selectDilemmaRows(rows: readonly DilemmaRow[], opts: SelectOptions = {}): DilemmaSelection {
  const pool = opts.honestyOnly ? rows.filter(ownHonestyTag) : [...rows];
  const unique = [...new Set(pool.map((r) => r.dilemma_idx))].sort((a, b) => a - b);
  const n = opts.nDilemmas ?? unique.length;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`n_dilemmas must be a positive integer, got ${n}`);
  if (n > unique.length) {
    throw new Error(`n_dilemmas = ${n} but the dataset has ${unique.length} dilemmas${opts.honestyOnly ? ' after the honesty-only filter' : ''} (${pool.length} rows)`);
  }
  const keep = new Set(unique.slice(0, n));
  return { rows: pool.filter((r) => keep.has(r.dilemma_idx)), dilemmas: unique.slice(0, n), nAvailableRows: pool.length, nAvailableDilemmas: unique.length };
}
