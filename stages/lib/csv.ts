/**
 * CSV tables for stage outputs: RFC 4180 quoting, typed columns, a reader that parses exactly what the writer writes.
 *
 * Conventions (chosen so that pandas `read_csv` reads our files with the right dtypes, and we read pandas' files):
 * - header row, then one record per row; records end in "\n" (the reader also accepts "\r\n");
 * - a field is quoted ("…", inner quotes doubled) only when it contains a comma, a quote, CR or LF;
 * - numbers are written with JavaScript's shortest round-trip representation (`String(x)`), so every float64
 *   reads back bit-identical; -0 is written "-0"; NaN is "NaN", infinities "inf" / "-inf" (numpy's spelling);
 * - booleans are written "True" / "False" (pandas' spelling, read back as bool by pandas);
 * - the reader also accepts an empty number field as NaN (pandas writes NaN as ""), "nan", "Infinity",
 *   "true"/"false", and integral floats such as "3.0" in integer columns (pandas upcasts ints with NaN).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export type ColumnType = 'string' | 'number' | 'integer' | 'boolean';
export type ColumnTypes = Readonly<Record<string, ColumnType>>;

type TsOf<T extends ColumnType> = T extends 'string' ? string : T extends 'boolean' ? boolean : number;

/** The row type of a table whose columns have the given types. */
export type RowOf<S extends ColumnTypes> = { -readonly [K in keyof S]: TsOf<S[K]> };

/** A named table: its file name, its columns in order, and their types. */
export interface TableSpec<S extends ColumnTypes> {
  file: string;
  columns: readonly (keyof S & string)[];
  types: S;
}

export function table<const S extends ColumnTypes>(file: string, types: S): TableSpec<S> {
  return { file, columns: Object.keys(types) as (keyof S & string)[], types };
}

export class CsvError extends Error {
  constructor(
    readonly source: string,
    /** 1-based line of the record (or 0 when not tied to a line) */
    readonly line: number,
    detail: string,
  ) {
    super(line > 0 ? `${source}:${line}: ${detail}` : `${source}: ${detail}`);
    this.name = 'CsvError';
  }
}

// ---------------------------------------------------------------------------------------------- writing

const NEEDS_QUOTES = /[",\r\n]/;

export function quoteField(s: string): string {
  return NEEDS_QUOTES.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

export function formatBoolean(b: boolean): string {
  return b ? 'True' : 'False';
}

function formatValue(v: unknown, type: ColumnType, where: () => string): string {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw new Error(`${where()}: expected a string, got ${describe(v)}`);
      return quoteField(v);
    case 'number':
      if (typeof v !== 'number') throw new Error(`${where()}: expected a number, got ${describe(v)}`);
      return formatNumber(v);
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${where()}: expected an integer, got ${describe(v)}`);
      return formatNumber(v);
    case 'boolean':
      if (typeof v !== 'boolean') throw new Error(`${where()}: expected a boolean, got ${describe(v)}`);
      return formatBoolean(v);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (missing column)';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Render rows as CSV text. Throws naming the table, row index and column when a value has the wrong type. */
export function toCsv<S extends ColumnTypes>(spec: TableSpec<S>, rows: readonly RowOf<S>[]): string {
  const lines: string[] = [spec.columns.map(quoteField).join(',')];
  rows.forEach((row, i) => {
    const rec = row as Record<string, unknown>;
    lines.push(spec.columns.map((c) => formatValue(rec[c], spec.types[c] as ColumnType, () => `${spec.file} row ${i} column ${c}`)).join(','));
  });
  return `${lines.join('\n')}\n`;
}

/** Write rows to `dir/spec.file` (or `path` when given): temp file in the same directory, fsync, rename. */
export function writeTable<S extends ColumnTypes>(dirOrPath: string, spec: TableSpec<S>, rows: readonly RowOf<S>[], opts: { exactPath?: boolean } = {}): string {
  const path = opts.exactPath ? dirOrPath : join(dirOrPath, spec.file);
  writeFileAtomic(path, toCsv(spec, rows));
  return path;
}

export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

// ---------------------------------------------------------------------------------------------- reading

export interface RawCsv {
  header: string[];
  /** records after the header; each has header.length fields */
  records: string[][];
  /** 1-based source line where each record starts */
  lines: number[];
}

/** Parse RFC 4180 text (quoted fields may span lines). Every record must have as many fields as the header. */
export function parseCsv(text: string, source = '<csv>'): RawCsv {
  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  while (i < n) {
    if (text[i] === '\n' || text[i] === '\r') {
      // pandas skips blank lines (skip_blank_lines=True); so do we
      i = skipLineEnd(text, i);
      line++;
      continue;
    }
    const startLine = line;
    const rec: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new CsvError(source, startLine, 'unterminated quoted field');
          const ch = text[i] as string;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new CsvError(source, line, `unexpected character ${JSON.stringify(next)} after a closing quote`);
        }
      } else {
        const start = i;
        while (i < n) {
          const ch = text[i];
          if (ch === ',' || ch === '\n' || ch === '\r') break;
          if (ch === '"') throw new CsvError(source, line, 'a quote inside an unquoted field (quote the whole field and double inner quotes)');
          i++;
        }
        field = text.slice(start, i);
      }
      rec.push(field);
      if (i >= n) break;
      const sep = text[i];
      if (sep === ',') {
        i++;
        continue;
      }
      i = skipLineEnd(text, i);
      line++;
      break;
    }
    records.push(rec);
    lines.push(startLine);
  }
  const header = records.shift();
  lines.shift();
  if (header === undefined) throw new CsvError(source, 0, 'empty file (no header row)');
  records.forEach((r, k) => {
    if (r.length !== header.length) {
      throw new CsvError(source, lines[k] as number, `expected ${header.length} fields (as the header), got ${r.length}`);
    }
  });
  return { header, records, lines };
}

/** i is at "\n", "\r\n" or a bare "\r": return the index after it */
function skipLineEnd(text: string, i: number): number {
  if (text[i] === '\r' && text[i + 1] === '\n') return i + 2;
  return i + 1;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseNumberField(s: string): number | undefined {
  if (NUMBER_RE.test(s)) return Number(s);
  switch (s) {
    case 'NaN':
    case 'nan':
    case '':
      return NaN;
    case 'inf':
    case '+inf':
    case 'Infinity':
    case '+Infinity':
      return Infinity;
    case '-inf':
    case '-Infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

export function parseBooleanField(s: string): boolean | undefined {
  if (s === 'True' || s === 'true') return true;
  if (s === 'False' || s === 'false') return false;
  return undefined;
}

function parseValue(s: string, type: ColumnType): unknown {
  switch (type) {
    case 'string':
      return s;
    case 'number':
      return parseNumberField(s);
    case 'integer': {
      const x = parseNumberField(s);
      return x !== undefined && Number.isInteger(x) ? x : undefined;
    }
    case 'boolean':
      return parseBooleanField(s);
  }
}

/**
 * Read typed rows from CSV text. The header must contain every column of the spec (extra columns are ignored,
 * so a table can grow without breaking readers); a field that does not parse as its column's type throws with
 * the source, line and column.
 */
export function fromCsv<S extends ColumnTypes>(spec: TableSpec<S>, text: string, source = spec.file): RowOf<S>[] {
  const raw = parseCsv(text, source);
  const index = new Map<string, number>();
  raw.header.forEach((h, k) => {
    if (index.has(h)) throw new CsvError(source, 1, `duplicate column ${JSON.stringify(h)}`);
    index.set(h, k);
  });
  const missing = spec.columns.filter((c) => !index.has(c));
  if (missing.length > 0) {
    throw new CsvError(source, 1, `missing column(s) ${missing.map((m) => JSON.stringify(m)).join(', ')}; header is ${raw.header.join(',')}`);
  }
  return raw.records.map((rec, r) => {
    const row: Record<string, unknown> = {};
    for (const c of spec.columns) {
      const type = spec.types[c] as ColumnType;
      const s = rec[index.get(c) as number] as string;
      const v = parseValue(s, type);
      if (v === undefined) {
        throw new CsvError(source, raw.lines[r] as number, `column ${c}: ${JSON.stringify(s)} is not a valid ${type}`);
      }
      row[c] = v;
    }
    return row as RowOf<S>;
  });
}

export function readTable<S extends ColumnTypes>(dirOrPath: string, spec: TableSpec<S>, opts: { exactPath?: boolean } = {}): RowOf<S>[] {
  const path = opts.exactPath ? dirOrPath : join(dirOrPath, spec.file);
  return fromCsv(spec, readFileSync(path, 'utf8'), path);
}

/** The column names of a CSV file (for files whose columns say which version wrote them, e.g. KL v3). */
export function csvHeader(file: string): string[] {
  return parseCsv(readFileSync(file, 'utf8').split('\n', 1)[0] ?? '', file).header;
}
