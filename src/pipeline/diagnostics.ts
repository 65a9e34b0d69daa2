/**
 * Collecting diagnostics while loading a pipeline: errors and warnings located by offsets into the pipeline file,
 * turned into `file:line:col` spans once, here.
 */
import type { LineCounter } from 'yaml';
import type { Diagnostic, SourceSpan } from './types.js';
import type { Range } from './source-tree.js';

/** The pipeline file's text and line index, for turning offsets into spans. */
export class SourceText {
  readonly file: string;
  readonly text: string;
  readonly #lines: LineCounter;

  constructor(file: string, text: string, lines: LineCounter) {
    this.file = file;
    this.text = text;
    this.#lines = lines;
  }

  span(range: Range): SourceSpan {
    const { line, col } = this.#lines.linePos(range.start);
    return { file: this.file, line, col, offset: range.start, length: Math.max(0, range.end - range.start) };
  }
}

export interface NoteAt {
  message: string;
  at?: Range;
}

/** Accumulates diagnostics; the same message at the same place is kept once (matrix cells repeat stage errors). */
export class DiagnosticSink {
  readonly errors: Diagnostic[] = [];
  readonly warnings: Diagnostic[] = [];
  readonly #source: SourceText;
  readonly #seen = new Set<string>();
  #errorCount = 0;

  constructor(source: SourceText) {
    this.#source = source;
  }

  get source(): SourceText {
    return this.#source;
  }

  error(message: string, at?: Range, notes?: readonly NoteAt[]): void {
    this.#add('error', message, at, notes);
  }

  warning(message: string, at?: Range, notes?: readonly NoteAt[]): void {
    this.#add('warning', message, at, notes);
  }

  get hasErrors(): boolean {
    return this.errors.length > 0;
  }

  /** Errors reported so far, repeats included: compare before and after a step to learn whether it failed. */
  get errorCount(): number {
    return this.#errorCount;
  }

  /** Errors in file order (those without a position first). */
  sortedErrors(): Diagnostic[] {
    return sortByPosition(this.errors);
  }

  sortedWarnings(): Diagnostic[] {
    return sortByPosition(this.warnings);
  }

  #add(severity: Diagnostic['severity'], message: string, at: Range | undefined, notes: readonly NoteAt[] | undefined): void {
    if (severity === 'error') this.#errorCount++;
    const id = `${severity}\u0000${at?.start ?? -1}\u0000${message}`;
    if (this.#seen.has(id)) return;
    this.#seen.add(id);
    const diagnostic: Diagnostic = { severity, message };
    if (at) diagnostic.span = this.#source.span(at);
    if (notes && notes.length > 0) {
      diagnostic.notes = notes.map((n) => (n.at ? { message: n.message, span: this.#source.span(n.at) } : { message: n.message }));
    }
    (severity === 'error' ? this.errors : this.warnings).push(diagnostic);
  }
}

function sortByPosition(list: readonly Diagnostic[]): Diagnostic[] {
  // stable sort: diagnostics at the same offset keep the order they were found in
  return [...list].sort((a, b) => (a.span?.offset ?? -1) - (b.span?.offset ?? -1));
}

/** A diagnostic with no source position (unreadable file, bad command line before anything is parsed). */
export function plainError(message: string): Diagnostic {
  return { severity: 'error', message };
}
