/**
 * Shared by the report tests: the hand-written fixture directories as the engine would pass them, running the
 * report kind through its public interface (load() → run(ctx)), and reading back report.md tables.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageContext, UpstreamOutput } from '../../../src/contract/stage-kind.js';
import { reportKind } from '../../../stages/report/index.js';

/** The repository root (tests run compiled from dist/test/stages/report/). */
import { REPO_ROOT } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
export { REPO_ROOT };
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'report');

/** The key byte of each fixture's stage key, as the engine would hand it over (key = that byte × 32). */
const KEY_BYTE: Readonly<Record<string, string>> = {
  'eval-lora': 'a1',
  'eval-repe': 'a2',
  'eval-prompts': 'a3',
  'eval-calibrated': 'a4',
  'ablation-delora': 'a5',
  calibrate: 'a6',
  iid: 'a7',
  'diff-lora': 'a8',
  'diff-delora': 'a9',
  'train-pos-lora': 'aa',
  'train-neg-lora': 'ab',
};

/** The execution facts the engine hands over with every input (run 7 on host fixture-host, cpu backend). */
export function engineFacts(dir: string): Pick<UpstreamOutput, 'key' | 'runId' | 'executionId' | 'finishedAt' | 'host' | 'annotations'> {
  return { key: (KEY_BYTE[dir] ?? 'ff').repeat(32), runId: 7, executionId: 70, finishedAt: '2026-11-24T12:00:00.000Z', host: 'fixture-host', annotations: { backend: 'cpu' } };
}

function up(stageId: string, dir: string, matrix: Record<string, string> = {}, root = FIXTURES): UpstreamOutput {
  return { stageId, dir: join(root, dir), matrix, ...engineFacts(dir) };
}

/** Every input of the report kind, wired to the fixtures (optionally a copy of them under `root`). */
export function fixtureInputs(root = FIXTURES): Record<string, UpstreamOutput[]> {
  return {
    evals: [up('eval@lora', 'eval-lora', { adapter: 'lora' }, root), up('eval@repe', 'eval-repe', {}, root), up('eval@prompts', 'eval-prompts', {}, root)],
    calibration: [up('calibrate', 'calibrate', {}, root)],
    calibrated: [up('eval_calibrated@lora', 'eval-calibrated', { adapter: 'lora' }, root)],
    iid: [up('eval_iid@lora', 'iid', {}, root)],
    ablation: [up('ablate@delora', 'ablation-delora', { adapter: 'delora' }, root)],
    training: [up('train_pos@lora', 'train-pos-lora', { adapter: 'lora' }, root), up('train_neg@lora', 'train-neg-lora', { adapter: 'lora' }, root)],
    diff: [up('diff@lora', 'diff-lora', { adapter: 'lora' }, root), up('diff@delora', 'diff-delora', { adapter: 'delora' }, root)],
  };
}

export interface RunResult {
  outDir: string;
  logs: string[];
  annotations: Record<string, string | number | boolean>;
}

/** Runs the report kind as the engine would: load() in this process, then run(ctx) into a fresh empty outDir. */
export async function runReportKind(
  inputs: Record<string, UpstreamOutput[]>,
  params: Record<string, unknown> = {},
  outDir?: string,
  extra: Pick<StageContext, 'run'> = {},
): Promise<RunResult> {
  const dir = outDir ?? tempDir('wsflow-report-');
  const logs: string[] = [];
  const annotations: Record<string, string | number | boolean> = {};
  const ctx: StageContext = {
    stageId: 'report',
    matrix: { behavior: 'honesty' },
    params,
    inputs,
    outDir: dir,
    projectDir: REPO_ROOT,
    signal: new AbortController().signal,
    progress: () => {},
    log: (m) => logs.push(m),
    metric: () => {},
    annotate: (k, v) => {
      annotations[k] = v;
    },
    runId: 42,
    key: 'f'.repeat(64),
    ...extra,
  };
  const impl = await reportKind.load();
  await impl.run(ctx);
  return { outDir: dir, logs, annotations };
}

export interface MarkdownTable {
  header: string[];
  rows: string[][];
}

/** The Markdown table right under the heading `### title` in report.md. */
export function markdownTable(md: string, title: string): MarkdownTable {
  const lines = md.split('\n');
  const start = lines.indexOf(`### ${title}`);
  if (start < 0) throw new Error(`report.md has no heading "### ${title}"`);
  let i = start + 1;
  while (i < lines.length && !(lines[i] ?? '').startsWith('|')) i++;
  const tableLines: string[] = [];
  while (i < lines.length && (lines[i] ?? '').startsWith('|')) tableLines.push(lines[i++] as string);
  const cells = (line: string): string[] => line.slice(2, -2).split(' | ').map((c) => c.trim());
  const [head, , ...body] = tableLines;
  if (head === undefined) throw new Error(`report.md: no table under "### ${title}"`);
  return { header: cells(head), rows: body.map(cells) };
}

/**
 * The fixtures plus eval@lora-1: dW:lora's rows again as dW:lora.s1 (what the diff stage names seed 1), its +1 arm
 * moved by `shift` in the honest direction. Copied under a fresh temp dir, returned as `root`.
 */
export function twoSeedInputs(shift: number): { root: string; inputs: Record<string, UpstreamOutput[]> } {
  const root = tempDir('wsflow-report-seeds-');
  cpSync(FIXTURES, root, { recursive: true });
  cpSync(join(root, 'eval-lora'), join(root, 'eval-lora-s1'), { recursive: true });
  const file = join(root, 'eval-lora-s1', 'dilemmas_per_row.csv');
  const [header, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const moved = lines.map((l) => {
    const c = l.split(',');
    c[0] = 'dW:lora.s1';
    if (c[1] === '1') {
      const label = Number(c[8]);
      c[4] = String(Number(c[4]) + shift * label);
      c[9] = String(Number(c[9]) + shift);
    }
    return c.join(',');
  });
  writeFileSync(file, `${[header, ...moved].join('\n')}\n`);
  const inputs = fixtureInputs(root);
  inputs.evals = [...(inputs.evals ?? []), { stageId: 'eval@lora-1', dir: join(root, 'eval-lora-s1'), matrix: { adapter: 'lora', seed: 1 }, ...engineFacts('eval-lora') }];
  return { root, inputs };
}

/**
 * The shipped pipeline's matrix values on the fixtures' inputs: ablate expands over behavior and seed only (it is
 * DeLoRA's ablation, id ablate@honesty-0), diff and train over behavior, adapter and seed.
 */
export function shippedShape(inputs: Record<string, UpstreamOutput[]>): Record<string, UpstreamOutput[]> {
  const out = { ...inputs };
  const set = (name: string, f: (u: UpstreamOutput) => Partial<UpstreamOutput>): void => {
    out[name] = (out[name] ?? []).map((u) => ({ ...u, ...f(u) }));
  };
  set('ablation', () => ({ stageId: 'ablate@honesty-0', matrix: { behavior: 'honesty', seed: 0 } }));
  set('diff', (u) => ({ matrix: { behavior: 'honesty', adapter: u.matrix.adapter ?? '', seed: 0 } }));
  set('training', (u) => ({ matrix: { behavior: 'honesty', adapter: u.matrix.adapter ?? '', seed: 0 } }));
  return out;
}
