/**
 * Diagnostics as the CLI prints them, compiler style (one grep-able `file:line:col: error: cause` line, then the
 * source line with the span underlined, then notes the same way):
 *
 *   pipeline.yaml:7:11: error: unknown stage kind "trian" (did you mean "train"?)
 *       7 |     uses: trian
 *         |           ^~~~~
 */
import type { Diagnostic, SourceSpan } from './types.js';

export interface FormatOptions {
  /** ANSI colours (callers decide: a TTY and no NO_COLOR) */
  color: boolean;
}

const ANSI = { reset: '\u001b[0m', bold: '\u001b[1m', red: '\u001b[31m', yellow: '\u001b[33m', cyan: '\u001b[36m' };

type Paint = (text: string, ...styles: (keyof typeof ANSI)[]) => string;

function painter(color: boolean): Paint {
  return (text, ...styles) => (color && text !== '' ? `${styles.map((s) => ANSI[s]).join('')}${text}${ANSI.reset}` : text);
}

/** The line holding `offset`; LF, CRLF and a lone CR all end a line, as in YAML. */
function sourceLine(text: string, offset: number): { line: string; column: number } {
  const start = Math.max(text.lastIndexOf('\n', offset - 1), text.lastIndexOf('\r', offset - 1)) + 1;
  const breakAt = /[\r\n]/.exec(text.slice(offset));
  const end = breakAt ? offset + breakAt.index : text.length;
  return { line: text.slice(start, end), column: offset - start };
}

function excerpt(span: SourceSpan, sourceText: string | undefined, tone: 'red' | 'yellow' | 'cyan', paint: Paint): string[] {
  if (sourceText === undefined || span.offset > sourceText.length) return [];
  const { line, column } = sourceLine(sourceText, span.offset);
  const gutter = String(span.line);
  const pad = ' '.repeat(gutter.length);
  // keep tabs so the marker lines up however the terminal expands them
  const indent = line.slice(0, column).replace(/[^\t]/g, ' ');
  const width = Math.max(1, Math.min(span.length, line.length - column));
  const marker = `^${'~'.repeat(width - 1)}`;
  return [`  ${paint(gutter, 'cyan')} | ${line}`, `  ${pad} | ${indent}${paint(marker, tone, 'bold')}`];
}

function location(span: SourceSpan | undefined): string {
  return span ? `${span.file}:${span.line}:${span.col}: ` : '';
}

/** The diagnostic as lines of text (no trailing newline). `sourceText` is the text of the file its spans point into. */
export function formatDiagnostic(diagnostic: Diagnostic, sourceText: string | undefined, options: FormatOptions): string {
  const paint = painter(options.color);
  const tone = diagnostic.severity === 'error' ? 'red' : 'yellow';
  const lines = [
    `${paint(location(diagnostic.span), 'bold')}${paint(`${diagnostic.severity}:`, tone, 'bold')} ${paint(diagnostic.message, 'bold')}`,
  ];
  if (diagnostic.span) lines.push(...excerpt(diagnostic.span, sourceText, tone, paint));
  for (const note of diagnostic.notes ?? []) {
    lines.push(`${paint(location(note.span), 'bold')}${paint('note:', 'cyan', 'bold')} ${note.message}`);
    if (note.span) lines.push(...excerpt(note.span, sourceText, 'cyan', paint));
  }
  return lines.join('\n');
}
