/**
 * A stage's log file, plus the last lines kept in memory for the failure report. Writing it is best effort: a log
 * that cannot be written (disk full, read-only cache/logs) must not turn into a second, different failure.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const LOG_TAIL_LINES = 20;

export class StageLog {
  #fd: number | null;
  #tail: string[] = [];
  #partial = '';

  constructor(path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#fd = openSync(path, 'a');
    } catch {
      this.#fd = null;
    }
  }

  #write(t: string): void {
    if (this.#fd === null) return;
    try {
      writeSync(this.#fd, t);
    } catch {
      this.close();
    }
  }

  text(t: string): void {
    this.#write(t);
    const parts = (this.#partial + t).split('\n');
    this.#partial = parts.pop() ?? '';
    this.#tail.push(...parts);
    if (this.#tail.length > LOG_TAIL_LINES) this.#tail = this.#tail.slice(-LOG_TAIL_LINES);
  }

  line(l: string): void {
    this.#write(`${l}\n`);
  }

  tail(): string[] {
    return this.#partial ? [...this.#tail, this.#partial].slice(-LOG_TAIL_LINES) : [...this.#tail];
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      closeSync(fd);
    } catch {
      // already gone
    }
  }
}
