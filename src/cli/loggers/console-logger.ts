/**
 * The human logger: one line per stage event. On a TTY it also keeps a live footer with one progress bar per
 * running stage (from ctx.progress), redrawn at most 10 times a second; elsewhere it prints events only.
 */
import { describeFailure } from '../../contract/failure.js';
import type { EngineEvent, EventSink } from '../../engine/events.js';
import type { ProgressUpdate } from '../../contract/stage-kind.js';
import { formatEvent } from './format-event.js';
import { fmtMs } from '../../engine/util/format-time.js';
import { makeStyle, type Style } from './style.js';

export interface ConsoleLoggerOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  color: boolean;
  /** live progress footer (TTY only) */
  live: boolean;
  verbose: boolean;
}

interface Running {
  started: number;
  progress: ProgressUpdate | null;
  backend: string | null;
}

const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
const REDRAW_MS = 100;

export class ConsoleLogger {
  readonly #o: ConsoleLoggerOptions;
  readonly #s: Style;
  readonly #running = new Map<string, Running>();
  #footerLines = 0;
  #timer: NodeJS.Timeout | null = null;
  #frame = 0;

  constructor(o: ConsoleLoggerOptions) {
    this.#o = o;
    this.#s = makeStyle(o.color);
  }

  readonly sink: EventSink = (e: EngineEvent) => {
    this.#track(e);
    const lines = formatEvent(e, this.#s, this.#o.verbose);
    if (lines.length) this.#print(lines);
    if (e.type === 'run-end') this.stop();
  };

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#clearFooter();
  }

  #track(e: EngineEvent): void {
    switch (e.type) {
      case 'stage-start':
        this.#running.set(e.stageId, { started: Date.now(), progress: null, backend: null });
        if (this.#o.live && !this.#timer) {
          this.#timer = setInterval(() => this.#redraw(), REDRAW_MS);
          this.#timer.unref();
        }
        break;
      case 'stage-progress': {
        const r = this.#running.get(e.stageId);
        if (r) r.progress = e.update;
        break;
      }
      case 'stage-annotate': {
        const r = this.#running.get(e.stageId);
        if (r && e.key === 'backend') r.backend = String(e.value);
        break;
      }
      case 'stage-succeeded':
      case 'stage-retry':
      case 'stage-failed':
      case 'stage-interrupted':
        this.#running.delete(e.stageId);
        break;
      case 'run-start':
      case 'warning':
      case 'stage-fresh':
      case 'stage-restored':
      case 'stage-waiting':
      case 'stage-log':
      case 'stage-skipped':
      case 'dry-run-stage':
      case 'dry-run-end':
      case 'run-end':
        break;
    }
  }

  #print(lines: string[]): void {
    this.#clearFooter();
    this.#o.out.write(`${lines.join('\n')}\n`);
    if (this.#o.live) this.#drawFooter();
  }

  #clearFooter(): void {
    if (!this.#o.live || this.#footerLines === 0) return;
    this.#o.out.write(`\x1b[${this.#footerLines}A\x1b[J`);
    this.#footerLines = 0;
  }

  #redraw(): void {
    this.#frame++;
    this.#clearFooter();
    this.#drawFooter();
  }

  #drawFooter(): void {
    if (this.#running.size === 0) return;
    const width = Math.max(40, (this.#o.out.columns ?? 80) - 1);
    const lines: string[] = [];
    const now = Date.now();
    const spin = SPINNER[this.#frame % SPINNER.length] ?? '*';
    for (const [id, r] of this.#running) {
      let text = `${spin} ${id}  ${fmtMs(now - r.started)}`;
      if (r.backend) text += ` [${r.backend}]`;
      const p = r.progress;
      if (p) {
        if (p.total !== undefined && p.total > 0) {
          const frac = Math.min(1, Math.max(0, p.done / p.total));
          const barW = 20;
          const filled = Math.round(frac * barW);
          text += `  ${'█'.repeat(filled)}${'░'.repeat(barW - filled)} ${p.done}/${p.total}${p.unit ? ` ${p.unit}` : ''}`;
          if (frac > 0 && frac < 1) text += `  eta ${fmtMs(((now - r.started) * (1 - frac)) / frac)}`;
        } else {
          text += `  ${p.done}${p.unit ? ` ${p.unit}` : ''}`;
        }
        if (p.message) text += `  ${p.message}`;
      }
      lines.push(this.#s.dim(text.length > width ? `${text.slice(0, width - 1)}…` : text));
    }
    this.#o.out.write(`${lines.join('\n')}\n`);
    this.#footerLines = lines.length;
  }
}

/** One JSON object per event per line (`--json`): for scripts and CI. */
export function jsonLinesSink(out: NodeJS.WritableStream): EventSink {
  return (e) => {
    // a failure also as its line (`error`), for readers of the JSON lines that do not know the reasons
    const line = e.type === 'stage-failed' || e.type === 'stage-retry' ? { ...e, error: describeFailure(e.failure) } : e;
    out.write(`${JSON.stringify(line)}\n`);
  };
}
