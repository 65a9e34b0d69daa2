/**
 * The files the GPU check's halves exchange (node.json, torch.json, ids.json), read back with a check of their
 * shape, and the one table that puts them side by side (printed, and written as markdown and JSON).
 */
import { readFileSync } from 'node:fs';
import { err, ok, type Result } from '../../src/contract/result.js';
import type { ModelShape } from './check-shapes.js';

export interface IdsFile {
  forward: Array<{ batch: number; seq: number; ids: number[][]; logits: string }>;
  train: { batch: number; seq: number; ids: number[][]; maskedPrefix: number; lora: { r: number; alpha: number; targetModules: string[]; layers: number[] } };
}

export interface ForwardTiming { batch: number; seq: number; seconds: number; tokensPerSecond: number }

export interface NodeCheckResult {
  half: 'wsflow';
  backend: string;
  detail: string;
  shape: string;
  model: ModelShape;
  date: string;
  load1: number;
  modelLoadSeconds: number;
  goldens: { maxAbsDiff: number; tolerance: number; sequences: number };
  forward: Array<ForwardTiming & { logitsFile: string }>;
  train: { batch: number; seq: number; seconds: number; tokensPerSecond: number; firstLoss: number; trainableParameters: number };
}

export interface TorchCheckResult {
  half: 'torch';
  device: string;
  torch: string;
  transformers: string;
  peft: string;
  tf32: boolean;
  forward: Array<ForwardTiming & { maxAbsDiff: number | null }>;
  train: { batch: number; seq: number; seconds: number; tokensPerSecond: number; firstLoss: number; trainableParameters: number };
}

/** The PyTorch half did not run: why (no python3, no torch, no CUDA, it failed). */
export interface TorchSkipped { half: 'torch'; skipped: string }

function isNum(x: unknown): x is number {
  return typeof x === 'number';
}

function readJson(path: string): Result<Record<string, unknown>, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return err(`${path}: not a JSON object`);
    return ok(v as Record<string, unknown>);
  } catch (e) {
    return err(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

function checkTiming(path: string, key: string, v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return `${path}: ${key} is not an object`;
  const o = v as Record<string, unknown>;
  for (const k of ['batch', 'seq', 'seconds', 'tokensPerSecond']) if (!isNum(o[k])) return `${path}: ${key}.${k} is not a number`;
  return null;
}

export function readNodeResult(path: string): Result<NodeCheckResult, string> {
  const r = readJson(path);
  if (!r.ok) return r;
  const o = r.value;
  if (o['half'] !== 'wsflow') return err(`${path}: "half" is not "wsflow" (not a node-check result)`);
  if (typeof o['backend'] !== 'string') return err(`${path}: backend is not a string`);
  const g = o['goldens'] as Record<string, unknown> | undefined;
  if (g === undefined || !isNum(g['maxAbsDiff']) || !isNum(g['tolerance'])) return err(`${path}: goldens.maxAbsDiff/tolerance missing`);
  if (!Array.isArray(o['forward'])) return err(`${path}: forward is not a list`);
  for (const [i, t] of (o['forward'] as unknown[]).entries()) {
    const bad = checkTiming(path, `forward[${i}]`, t);
    if (bad !== null) return err(bad);
  }
  const bad = checkTiming(path, 'train', o['train']);
  if (bad !== null) return err(bad);
  if (!isNum((o['train'] as Record<string, unknown>)['firstLoss'])) return err(`${path}: train.firstLoss is not a number`);
  return ok(o as unknown as NodeCheckResult);
}

export function readTorchResult(path: string): Result<TorchCheckResult | TorchSkipped, string> {
  const r = readJson(path);
  if (!r.ok) return r;
  const o = r.value;
  if (o['half'] !== 'torch') return err(`${path}: "half" is not "torch" (not a torch_check.py result)`);
  if (typeof o['skipped'] === 'string') return ok({ half: 'torch', skipped: o['skipped'] });
  if (typeof o['device'] !== 'string') return err(`${path}: device is not a string`);
  if (!Array.isArray(o['forward'])) return err(`${path}: forward is not a list`);
  for (const [i, t] of (o['forward'] as unknown[]).entries()) {
    const bad = checkTiming(path, `forward[${i}]`, t);
    if (bad !== null) return err(bad);
  }
  const bad = checkTiming(path, 'train', o['train']);
  if (bad !== null) return err(bad);
  return ok(o as unknown as TorchCheckResult);
}

export interface TableRow {
  case: string;
  wsflowSeconds: number | null;
  wsflowTokensPerSecond: number | null;
  torchSeconds: number | null;
  torchTokensPerSecond: number | null;
  /** wsflow tokens/s over PyTorch's */
  ratio: number | null;
  /** max |Δlogit| (goldens: against the float64 reference; forward: against PyTorch on the same weights) */
  maxAbsDiff: number | null;
  note: string;
}

export interface CheckTable {
  title: string;
  rows: TableRow[];
  /** false when a golden comparison is over its tolerance */
  goldensPass: boolean;
}

export function buildTable(node: NodeCheckResult, torch: TorchCheckResult | TorchSkipped): CheckTable {
  const t = 'skipped' in torch ? null : torch;
  const rows: TableRow[] = [];
  const goldensPass = node.goldens.maxAbsDiff <= node.goldens.tolerance;
  rows.push({
    case: `golden logits, tiny Qwen3 (${node.goldens.sequences} sequences)`,
    wsflowSeconds: null, wsflowTokensPerSecond: null, torchSeconds: null, torchTokensPerSecond: null, ratio: null,
    maxAbsDiff: node.goldens.maxAbsDiff,
    note: `${goldensPass ? 'pass' : 'FAIL'}: tolerance ${node.goldens.tolerance} vs the float64 reference`,
  });
  for (const f of node.forward) {
    const p = t?.forward.find((x) => x.batch === f.batch && x.seq === f.seq);
    rows.push({
      case: `forward ${f.batch}×${f.seq}, full-vocab logits`,
      wsflowSeconds: f.seconds, wsflowTokensPerSecond: f.tokensPerSecond,
      torchSeconds: p?.seconds ?? null, torchTokensPerSecond: p?.tokensPerSecond ?? null,
      ratio: p === undefined ? null : f.tokensPerSecond / p.tokensPerSecond,
      maxAbsDiff: p?.maxAbsDiff ?? null,
      note: p === undefined ? 'no PyTorch figure' : 'Δ vs PyTorch, same weights and ids',
    });
  }
  const tr = node.train;
  const pt = t !== null && t.train.batch === tr.batch && t.train.seq === tr.seq ? t.train : undefined;
  rows.push({
    case: `LoRA step ${tr.batch}×${tr.seq} (r 32, α 64, 7 linears)`,
    wsflowSeconds: tr.seconds, wsflowTokensPerSecond: tr.tokensPerSecond,
    torchSeconds: pt?.seconds ?? null, torchTokensPerSecond: pt?.tokensPerSecond ?? null,
    ratio: pt === undefined ? null : tr.tokensPerSecond / pt.tokensPerSecond,
    maxAbsDiff: null,
    note: pt === undefined ? `first loss ${tr.firstLoss.toFixed(5)}; no PyTorch figure` : `first loss ${tr.firstLoss.toFixed(5)} vs ${pt.firstLoss.toFixed(5)} (|Δ| ${Math.abs(tr.firstLoss - pt.firstLoss).toExponential(1)})`,
  });
  const torchPart = t === null ? `PyTorch skipped: ${(torch as TorchSkipped).skipped}` : `PyTorch ${t.torch} on ${t.device}, float32, TF32 ${t.tf32 ? 'ON' : 'off'}, transformers ${t.transformers}, peft ${t.peft}`;
  return {
    title: `wsflow ${node.backend} (${node.detail}) vs ${torchPart}; model ${node.shape} shape, ${node.date}, load ${node.load1.toFixed(2)}`,
    rows,
    goldensPass,
  };
}

function fmt(x: number | null, digits: number): string {
  return x === null ? '–' : x.toFixed(digits);
}

function fmtDiff(x: number | null): string {
  return x === null ? '–' : x.toExponential(2);
}

export function tableMarkdown(t: CheckTable): string {
  const lines = [
    t.title,
    '',
    '| case | wsflow s | wsflow tokens/s | PyTorch s | PyTorch tokens/s | × PyTorch | max abs Δlogit | note |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...t.rows.map((r) => `| ${r.case} | ${fmt(r.wsflowSeconds, 4)} | ${fmt(r.wsflowTokensPerSecond, 1)} | ${fmt(r.torchSeconds, 4)} | ${fmt(r.torchTokensPerSecond, 1)} | ${fmt(r.ratio, 3)} | ${fmtDiff(r.maxAbsDiff)} | ${r.note} |`),
  ];
  return `${lines.join('\n')}\n`;
}
