/**
 * Renders bench/core/parity.sh's JSON lines as issue 15's three tables: forward against PyTorch's best thread
 * setting, the model's GEMM shapes against numpy's sgemm, and one training step per adapter type against
 * PyTorch's best LoRA step. Every ratio divides two figures of the same run.
 *   node dist/bench/core/parity-table.js bench/core/parity-results.jsonl
 */
import { readFileSync } from 'node:fs';

interface Row { run?: string; round?: number; bench: string; [k: string]: unknown }

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: parity-table.js RESULTS.jsonl\n');
  process.exit(2);
}
const rows: Row[] = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Row);
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const fmt = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
/** Every timed repetition of a row (`all` for PyTorch, `seconds` as one number or a list for ours). */
const timings = (r: Row): number[] => {
  const all = r['all'] ?? r['seconds'];
  return Array.isArray(all) ? all.map(num) : [num(all)];
};
const loads = (rs: Row[]): string => {
  const l = rs.map((r) => num(r['load1'])).filter(Number.isFinite);
  return l.length === 0 ? '–' : `${fmt(Math.min(...l), 1)}–${fmt(Math.max(...l), 1)}`;
};

const out: string[] = [];
const machine = rows.find((r) => r.bench === 'machine');
const notes = rows.filter((r) => r.bench === 'note');
out.push(`Run ${String(machine?.['date'] ?? '?')} → ${String(notes.at(-1)?.['date'] ?? '?')}; ${String(machine?.['cpu'] ?? '')}, Node ${String(machine?.['node'] ?? '?')}.`);
out.push(`Load at start: ${String(machine?.['uptime'] ?? '?')}; at end: ${String(notes.at(-1)?.['uptime'] ?? '?')}.`, '');

/** Groups rows by their run label, keeping the order in which labels first appear. */
function byRun(rs: Row[]): Map<string, Row[]> {
  const m = new Map<string, Row[]>();
  for (const r of rs) m.set(r.run ?? '?', [...(m.get(r.run ?? '?') ?? []), r]);
  return m;
}

const forward = rows.filter((r) => r.bench === 'model-forward');
if (forward.length > 0) {
  out.push('### Forward, Qwen3-0.6B shape (28 blocks, full-vocab logits)', '');
  out.push('| backend | batch×seq | s / forward, every timed rep | median s | × PyTorch best | per round × PyTorch best (that round) | load (1 min) |');
  out.push('|---|---|---|---|---|---|---|');
  const shapes = [...new Set(forward.map((r) => `${String(r['batch'])}×${String(r['seq'])}`))];
  for (const shape of shapes) {
    const here = forward.filter((r) => `${String(r['batch'])}×${String(r['seq'])}` === shape);
    const groups = byRun(here);
    const torchLabels = [...groups.keys()].filter((l) => l.startsWith('pytorch'));
    const best = torchLabels.reduce<string | undefined>((b, l) => (b === undefined || median(groups.get(l)!.flatMap(timings)) < median(groups.get(b)!.flatMap(timings)) ? l : b), undefined);
    const bestMedian = best === undefined ? NaN : median(groups.get(best)!.flatMap(timings));
    for (const [label, rs] of groups) {
      const m = median(rs.flatMap(timings));
      const perRound = rs.map((r) => {
        const torchThatRound = here.filter((t) => t.run === best && t.round === r.round).flatMap(timings);
        return fmt(median(torchThatRound) / median(timings(r)));
      });
      out.push(`| ${label} | ${shape} | ${rs.flatMap(timings).map((t) => fmt(t, 3)).join(', ')} | ${fmt(m, 3)} | ${fmt(bestMedian / m)} | ${perRound.join(', ')} | ${loads(rs)} |`);
    }
  }
  out.push('');
}

const gemm = rows.filter((r) => r.bench === 'gemm');
if (gemm.length > 0) {
  const hasBefore = gemm.some((r) => r.run === 'native-before');
  const layout = gemm.some((r) => r['transposeB'] === true) ? ' (weight [N, K], as the model calls it)' : '';
  out.push(`### The model's GEMM shapes: native vs numpy's OpenBLAS sgemm${layout} (ms, median over rounds)`, '');
  out.push(hasBefore
    ? '| GEMM | m × k × n | numpy ms | native before ms | native ms | before ÷ numpy GFLOP/s | native ÷ numpy GFLOP/s |'
    : '| GEMM | m × k × n | numpy ms | native ms | native ÷ numpy GFLOP/s |');
  out.push(hasBefore ? '|---|---|---|---|---|---|---|' : '|---|---|---|---|---|');
  const keys = [...new Set(gemm.map((r) => `${String(r['name'])}|${String(r['m'])}|${String(r['k'])}|${String(r['n'])}`))];
  for (const key of keys) {
    const [name, m, k, n] = key.split('|');
    const same = (r: Row): boolean => `${String(r['name'])}|${String(r['m'])}|${String(r['k'])}|${String(r['n'])}` === key;
    const ms = (run: string): number => median(gemm.filter((r) => same(r) && r.run === run).map((r) => num(r['ms'])));
    const np = ms('numpy');
    const nat = ms('native');
    const pre = ms('native-before');
    out.push(hasBefore
      ? `| ${String(name)} | ${String(m)} × ${String(k)} × ${String(n)} | ${fmt(np)} | ${fmt(pre)} | ${fmt(nat)} | ${fmt(np / pre)} | ${fmt(np / nat)} |`
      : `| ${String(name)} | ${String(m)} × ${String(k)} × ${String(n)} | ${fmt(np)} | ${fmt(nat)} | ${fmt(np / nat)} |`);
  }
  out.push('');
}

const train = rows.filter((r) => r.bench === 'train-step' || ((r.run === 'native' || r.run === 'native-before') && r['adapter'] !== undefined && r['microBatch'] !== undefined));
if (train.length > 0) {
  out.push('### One training step, 4 sequences (one warm-up step, then one timed)', '');
  out.push('| run | adapter | batch×seq | round | s / step | × PyTorch best (LoRA, that round) | load (1 min) |');
  out.push('|---|---|---|---|---|---|---|');
  const roundOf = (r: Row): number => r.round ?? 1;
  const torch = train.filter((r) => (r.run ?? '').startsWith('pytorch'));
  /** PyTorch's fastest LoRA step among its thread settings in the same round */
  const bestIn = (round: number): number => Math.min(...torch.filter((r) => roundOf(r) === round).map((r) => median(timings(r))));
  const ratios = new Map<string, number[]>();
  for (const r of train) {
    const s = median(timings(r));
    const ratio = bestIn(roundOf(r)) / s;
    const label = `${String(r.run)} | ${String(r['adapter'])}`;
    ratios.set(label, [...(ratios.get(label) ?? []), ratio]);
    out.push(`| ${String(r.run)} | ${String(r['adapter'])} | ${String(r['batch'])}×${String(r['seq'])} | ${roundOf(r)} | ${fmt(s, 1)} | ${fmt(ratio)} | ${fmt(num(r['load1']), 1)} |`);
  }
  out.push('');
  if (new Set(train.map(roundOf)).size > 1) {
    out.push('| run | adapter | × PyTorch best, each round | median |', '|---|---|---|---|');
    for (const [label, rs] of ratios) out.push(`| ${label} | ${rs.map((x) => fmt(x)).join(', ')} | ${fmt(median(rs))} |`);
    out.push('');
  }
}
process.stdout.write(`${out.join('\n')}\n`);
