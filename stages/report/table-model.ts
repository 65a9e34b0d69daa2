/**
 * The report's tables as data: one model rendered three ways (Markdown, HTML, report.json), so the numbers a
 * reader sees and the numbers a script reads cannot drift apart.
 */

export type CellValue = number | string | null;

/** How a numeric cell is printed; every table states its precision so tests can compare the printed text. */
export type NumberFormat =
  | { type: 'fixed'; digits: number; signed?: boolean }
  | { type: 'int' }
  | { type: 'percent'; digits: number }
  /** significant digits, for values whose size varies over orders of magnitude (e.g. a difference of two SIs) */
  | { type: 'sig'; digits: number; signed?: boolean };

export interface ColumnSpec {
  key: string;
  header: string;
  /** numbers are right-aligned; text columns take no format */
  format?: NumberFormat;
  /** a hover/footnote description of what the column means */
  description?: string;
}

export interface TableSource {
  /** the upstream stage id the numbers came from */
  stageId: string;
  /** files of that stage that were read */
  files: string[];
}

export interface ReportTable {
  /** stable id, used as the HTML anchor and the report.json key */
  id: string;
  title: string;
  /** one or two sentences: what the table shows and how to read it */
  caption: string;
  columns: ColumnSpec[];
  rows: Record<string, CellValue>[];
  sources: TableSource[];
  /** extra remarks (e.g. rows left out and why) */
  notes: string[];
}

/** A table that could not be built because an optional input is absent; shown as a note instead. */
export interface OmittedTable {
  id: string;
  title: string;
  reason: string;
}

export function formatCell(value: CellValue, format: NumberFormat | undefined): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (format === undefined) return String(value);
  switch (format.type) {
    case 'int':
      return minusSign(String(Math.round(value)));
    case 'fixed': {
      const text = fixed(value, format.digits);
      // a value that prints as zero gets no sign: "+0.00" would claim a direction the digits cannot show
      const zero = /^0\.?0*$/.test(text);
      return format.signed === true && !text.startsWith('-') && !zero ? `+${text}` : minusSign(text);
    }
    case 'percent':
      return `${minusSign(fixed(value * 100, format.digits))}%`;
    case 'sig': {
      if (value === 0) return '0';
      const text = Number(value.toPrecision(format.digits)).toString();
      return format.signed === true && value > 0 ? `+${text}` : minusSign(text);
    }
  }
}

/** toFixed, but never prints "-0.00" for a value that rounds to zero. */
function fixed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/** Typographic minus (U+2212) so negative numbers line up with "+" in proportional fonts. */
function minusSign(text: string): string {
  return text.startsWith('-') ? `−${text.slice(1)}` : text;
}

/** Parses a cell as printed by formatCell back into a number (for tests and for readers of report.md). */
export function parsePrintedNumber(text: string): number {
  const t = text.trim().replace(/^−/, '-').replace(/^\+/, '').replace(/%$/, '');
  if (t === 'NaN') return Number.NaN;
  if (t === '—') return Number.NaN;
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new Error(`not a printed number: "${text}"`);
  return n;
}
