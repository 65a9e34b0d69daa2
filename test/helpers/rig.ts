/**
 * A wireit-style test rig for the engine: a temporary project directory with pipeline.yaml and test kinds, the
 * real `wsflow` CLI run as a child process, and helpers to read what happened (invocation log, out/, state db).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { removeTree } from '../../src/engine/cas/cache-store.js';

/** repository root (this file runs from dist/test/helpers) */
import { REPO_ROOT } from './repo-root.js';
export { REPO_ROOT };
export const WSFLOW_BIN = join(REPO_ROOT, 'bin', 'wsflow.js');
export const ENGINE_KINDS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'engine-kinds');

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RigOptions {
  /** project files, path → content */
  files?: Record<string, string>;
  /** extra environment for every command */
  env?: Record<string, string>;
}

export class Rig {
  readonly dir: string;
  readonly invocationsFile: string;
  readonly #env: Record<string, string>;
  /** fires when a file directly in the project changes (the invocation log) or a spawned command prints */
  readonly #changes = new EventEmitter();
  #watcher: FSWatcher | null = null;

  constructor(options: RigOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'wsflow-engine-'));
    this.invocationsFile = join(this.dir, '.invocations.log');
    cpSync(ENGINE_KINDS_DIR, join(this.dir, 'kinds'), { recursive: true });
    for (const [path, content] of Object.entries(options.files ?? {})) this.write(path, content);
    this.#env = { ...(options.env ?? {}) };
  }

  path(rel: string): string {
    return join(this.dir, rel);
  }

  write(rel: string, content: string): void {
    mkdirSync(dirname(this.path(rel)), { recursive: true });
    writeFileSync(this.path(rel), content);
  }

  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8');
  }

  exists(rel: string): boolean {
    return existsSync(this.path(rel));
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', WSFLOW_TEST_INVOCATIONS: this.invocationsFile, ...this.#env, ...extra };
    delete env.FORCE_COLOR;
    return env;
  }

  /** Starts `wsflow ARGS` in the project directory, in its own process group (so a test can kill all of it). */
  spawn(args: readonly string[], extraEnv: Record<string, string> = {}): ChildProcess & { result: Promise<ExecResult>; output(): string } {
    const child = spawn(process.execPath, [WSFLOW_BIN, ...args], {
      cwd: this.dir,
      env: this.env(extraEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
      this.#changes.emit('change');
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      this.#changes.emit('change');
    });
    const result = new Promise<ExecResult>((resolve) => {
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    return Object.assign(child, { result, output: () => stdout });
  }

  /** Runs `wsflow ARGS` to completion. */
  exec(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<ExecResult> {
    return this.spawn(args, extraEnv).result;
  }

  #invocationLines(): string[][] {
    if (!existsSync(this.invocationsFile)) return [];
    return readFileSync(this.invocationsFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(' '));
  }

  /** Stage ids in the order their executions started (from the test kinds' invocation log). */
  invocations(): string[] {
    return this.#invocationLines()
      .filter((f) => f[2] === 'start')
      .map((f) => f[0] ?? '');
  }

  /** Per execution of a test kind: stage id, worker pid, start and end times (end null if it did not finish). */
  executions(): { stageId: string; pid: number; start: number; end: number | null }[] {
    const out: { stageId: string; pid: number; start: number; end: number | null }[] = [];
    for (const [id, pid, what, t] of this.#invocationLines()) {
      if (what === 'start') out.push({ stageId: id ?? '', pid: Number(pid), start: Number(t), end: null });
      else {
        const open = out.find((e) => e.stageId === id && e.pid === Number(pid) && e.end === null);
        if (open) open.end = Number(t);
      }
    }
    return out;
  }

  clearInvocations(): void {
    rmSync(this.invocationsFile, { force: true });
  }

  /**
   * Every file under a project directory, relative path → content (for comparing trees); with `withDirs`, every
   * directory too (path ending in "/" → ""), so that a new empty directory counts as a change.
   */
  snapshot(rel: string, withDirs = false): Map<string, string> {
    const out = new Map<string, string>();
    const root = this.path(rel);
    if (!existsSync(root)) return out;
    const visit = (dir: string): void => {
      for (const name of readdirSync(dir).sort()) {
        const abs = join(dir, name);
        if (statSync(abs).isDirectory()) {
          if (withDirs) out.set(`${relative(root, abs)}/`, '');
          visit(abs);
        } else out.set(relative(root, abs), readFileSync(abs, 'latin1'));
      }
    };
    visit(root);
    return out;
  }

  /** Access to the project's state database (tests only read; opened read-write so a crashed WAL can be read). */
  withDb<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(this.path('cache/state.db'), { fileMustExist: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  /**
   * Resolves once `check` holds. It is checked again whenever a test kind logs an invocation or a command this rig
   * spawned prints, never on a timer; `timeoutMs` only bounds a test that would otherwise hang, and fails it.
   */
  until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    if (check()) return Promise.resolve();
    this.#watcher ??= watch(this.dir, () => this.#changes.emit('change'));
    return new Promise((resolve, reject) => {
      const onChange = (): void => {
        if (!check()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#changes.off('change', onChange);
      };
      this.#changes.on('change', onChange);
    });
  }

  /** Resolves once the test kind has started stage `stageId` (`n` times, counting earlier runs). */
  started(stageId: string, n = 1): Promise<void> {
    return this.until(() => this.invocations().filter((id) => id === stageId).length >= n, `${stageId} to start`);
  }

  /**
   * Lets the test kind's stages gated on `name` (`with: { gate: gates/<name> }`) finish: until then they wait,
   * started, so the test decides when each one ends.
   */
  release(name: string): void {
    this.write(`gates/${name}`, '');
  }

  cleanup(): void {
    this.#watcher?.close();
    // cache trees are read-only directories; removeTree makes them writable where rm alone would fail
    removeTree(this.dir);
  }
}

/** Count of each stage id in a list. */
export function countBy(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true or the timeout passes. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}
