/**
 * Quoting for `cmd:` interpolation. A value spliced into a command is one shell word whatever it holds: spaces,
 * `;`, `$(...)`, globs and quotes are text, not syntax. The quoting is Python's `shlex.quote`: values made only of
 * characters no POSIX shell treats specially are left bare (so `--lr 0.001` stays as written and keys of such
 * commands did not change), anything else is wrapped in single quotes, each `'` written as `'"'"'`.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(text: string): string {
  if (SAFE.test(text)) return text;
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Where a position in a command sits, for the shell: outside quotes, inside '…', "…" or $'…', or right after a
 * backslash (which would escape the quote a spliced value starts with).
 */
export type QuoteContext = 'none' | 'single' | 'double' | 'ansi' | 'escaped';

/**
 * A tracker of quote context, fed the command's literal text in order (`${...}` references are skipped by the
 * caller: they are words of their own). Backslash escapes outside quotes, inside "…" and inside $'…'.
 */
export class QuoteTracker {
  #context: Exclude<QuoteContext, 'escaped'> = 'none';
  #escaped = false;
  #previous = '';

  get context(): QuoteContext {
    return this.#escaped ? 'escaped' : this.#context;
  }

  feed(char: string): void {
    const previous = this.#previous;
    this.#previous = char;
    if (this.#escaped) {
      this.#escaped = false;
      return;
    }
    switch (this.#context) {
      case 'none':
        if (char === '\\') this.#escaped = true;
        else if (char === "'") this.#context = previous === '$' ? 'ansi' : 'single';
        else if (char === '"') this.#context = 'double';
        return;
      case 'single':
        if (char === "'") this.#context = 'none';
        return;
      case 'double':
      case 'ansi':
        if (char === '\\') this.#escaped = true;
        else if (char === (this.#context === 'double' ? '"' : "'")) this.#context = 'none';
        return;
    }
  }

  /** A reference is a word: what precedes it is no `$` that could start `$'`, nor a pending escape. */
  skipWord(): void {
    this.#previous = '';
    this.#escaped = false;
  }
}
