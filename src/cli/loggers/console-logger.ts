/**
 * The human logger: one line per stage event. On a TTY it also keeps a live footer with the run's progress
 * (stages done of all, overall ETA) and one progress bar per running stage (from ctx.progress), redrawn at most
 * 10 times a second; elsewhere the run's progress follows each finished stage's line.
 */
import { describeFailure } from '../../contract/failure.js';
import type { EngineEvent, EventSink } from '../../engine/events.js';
import type { ProgressUpdate } from '../../contract/stage-kind.js';
import { formatEvent } from './format-event.js';
import { fmtMs } from '../../engine/util/format-time.js';
import { makeStyle, type Style } from './style.js';
import { estimateRemaining, type PlannedStage } from './estimate-remaining.js';

export interface ConsoleLoggerOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  color: boolean;
  /** live progress footer (TTY only) */
  live: boolean;
  verbose: boolean;
  /**
   * the run's stages and how long each took when it last succeeded: the overall ETA. Asked for when a progress line
   * is first drawn, so a run with nothing to do (1000 fresh stages) never queries the durations.
   */
  plan?: () => RunPlan;
}

export interface RunPlan {
  /** the run's stages in pipeline order, with their upstream stages, class and previous duration */
  stages: readonly PlannedStage[];
}

interface Running {
  started: number;
  progress: ProgressUpdate | null;
  /** the first progress update (time, done): the stage's ETA is from its rate since, not counting setup (model load) */
  first: { at: number; done: number } | null;
  backend: string | null;
}

const FINISHING: ReadonlySet<EngineEvent['type']> = new Set(['stage-succeeded', 'stage-failed', 'stage-restored', 'stage-skipped', 'stage-interrupted']);
const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
const REDRAW_MS = 100;

export class ConsoleLogger {
  readonly #o: ConsoleLoggerOptions;
  readonly #s: Style;
  readonly #running = new Map<string, Running>();
  #footerLines = 0;
  #timer: NodeJS.Timeout | null = null;
  #frame = 0;
  #total = 0;
  /** stages of each class run at once (from run-start): the ETA's parallelism */
  #slots = { cpu: 1, accel: 1 };
  readonly #finished = new Set<string>();
  #plan: RunPlan | undefined;

  constructor(o: ConsoleLoggerOptions) {
    this.#o = o;
    this.#s = makeStyle(o.color);
  }

  readonly sink: EventSink = (e: EngineEvent) => {
    this.#track(e);
    const lines = formatEvent(e, this.#s, this.#o.verbose);
    // after the line of a stage done (a failure's line ends with its error: left as it is)
    if (lines.length && !this.#o.live && this.#total > 0 && (e.type === 'stage-succeeded' || e.type === 'stage-restored')) {
      lines[0] += `  ${this.#s.dim(`[${this.#progressText(Date.now())}]`)}`;
    }
    if (lines.length) this.#print(lines);
    if (e.type === 'run-end') this.stop();
  };

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#clearFooter();
  }

  /**
   * "12/54 stages, ETA 3m05s": the time until the remaining stages end, replaying the run's schedule with -j and
   * --accel from the stages' previous durations (estimate-remaining.ts); "ETA ≥" when some remaining stage never
   * succeeded before (counted as taking no time).
   */
  #progressText(now: number): string {
    const text = `${this.#finished.size}/${this.#total} stages`;
    const plan = this.#o.plan && (this.#plan ??= this.#o.plan());
    if (!plan) return text;
    const runningMs = new Map([...this.#running].map(([id, r]) => [id, now - r.started]));
    const { ms, unknown } = estimateRemaining(plan.stages, { finished: this.#finished, runningMs, slots: this.#slots });
    if (ms === 0 && unknown === 0) return text;
    if (ms === 0) return `${text}, ETA unknown (${unknown} never timed)`;
    return `${text}, ETA ${unknown ? '≥ ' : ''}${fmtMs(ms)}`;
  }

  #track(e: EngineEvent): void {
    if (FINISHING.has(e.type) || e.type === 'stage-fresh') {
      if ('stageId' in e && e.stageId !== undefined) this.#finished.add(e.stageId);
    }
    switch (e.type) {
      case 'stage-start':
        this.#running.set(e.stageId, { started: Date.now(), progress: null, first: null, backend: null });
        if (this.#o.live && !this.#timer) {
          this.#timer = setInterval(() => this.#redraw(), REDRAW_MS);
          this.#timer.unref();
        }
        break;
      case 'stage-progress': {
        const r = this.#running.get(e.stageId);
        if (r) {
          r.progress = e.update;
          r.first ??= { at: Date.now(), done: e.update.done };
        }
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
        this.#total = e.stages;
        this.#slots = { cpu: e.jobs, accel: e.accel };
        break;
      case 'warning':
      case 'stage-fresh':
      case 'stage-restored':
      case 'stage-waiting':
      case 'stage-log':
      case 'stage-skipped':
      case 'dry-run-stage':
      case 'dry-run-end':
      case 'run-end':
      case 'report-ready':
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
    if (this.#total > 0) lines.push(this.#s.dim(this.#progressText(now)));
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
          const f = r.first;
          if (f && p.done > f.done && frac < 1) text += `  eta ${fmtMs(((now - f.at) * (p.total - p.done)) / (p.done - f.done))}`;
          else if (frac > 0 && frac < 1) text += `  eta ${fmtMs(((now - r.started) * (1 - frac)) / frac)}`;
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
