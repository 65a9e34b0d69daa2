/**
 * The subspace summary (study-ref §6): per weight diff, how strongly dW concentrates in the top singular block of
 * the base weights (ratio_top, 1 = no more than chance) and, for the residual writers, in the directions the
 * unembedding reads least (ratio_weak), with the sweep's ratio_weak_write.
 */
import type { SubspaceSummaryRow } from '../lib/artifacts.js';
import type { StageRows } from './load-inputs.js';
import type { CellValue, ColumnSpec, ReportTable } from './table-model.js';

const WRITERS = ['o_proj', 'down_proj'];

function label(stage: { stageId: string; matrix: Readonly<Record<string, string | number | boolean>> }): string {
  const a = stage.matrix.adapter;
  if (a === undefined) return stage.stageId;
  const seed = stage.matrix.seed;
  return seed === undefined || String(seed) === '0' ? String(a) : `${String(a)}.s${String(seed)}`;
}

function finiteOrNull(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

export function subspaceTable(stages: readonly StageRows<SubspaceSummaryRow>[]): ReportTable {
  const kinds = [...new Set(stages.flatMap((s) => s.rows.map((r) => r.kind)))].sort();
  const writers = WRITERS.filter((k) => kinds.includes(k));
  const rows: Record<string, CellValue>[] = stages.map((s) => {
    const by = new Map(s.rows.map((r) => [r.kind, r]));
    const row: Record<string, CellValue> = { adapter: label(s) };
    for (const k of kinds) row[`top:${k}`] = finiteOrNull(by.get(k)?.mean_ratio_top);
    const weak = writers.map((k) => by.get(k)?.mean_ratio_weak).filter((x): x is number => x !== undefined && Number.isFinite(x));
    for (const k of writers) row[`weak:${k}`] = finiteOrNull(by.get(k)?.mean_ratio_weak);
    row['ratio_weak_write'] = weak.length > 0 ? weak.reduce((a, b) => a + b, 0) / weak.length : null;
    row['source'] = s.stageId;
    return row;
  });
  rows.sort((a, b) => (String(a.adapter) < String(b.adapter) ? -1 : 1));
  const columns: ColumnSpec[] = [
    { key: 'adapter', header: 'adapter' },
    ...kinds.map((k) => ({ key: `top:${k}`, header: `ratio_top ${k}`, format: { type: 'fixed' as const, digits: 2 }, description: `mean over layers of energy of P = Uᵀ·dW·V in the top k×k block over its null share k²/r² (${k})` })),
    ...writers.map((k) => ({ key: `weak:${k}`, header: `ratio_weak ${k}`, format: { type: 'fixed' as const, digits: 2 }, description: `mean over layers of the energy of dW in the unembedding's bottom 1% right singular directions over its null share (${k})` })),
    { key: 'ratio_weak_write', header: 'ratio_weak_write', format: { type: 'fixed', digits: 2 }, description: 'mean of mean_ratio_weak over o_proj and down_proj' },
    { key: 'source', header: 'source' },
  ];
  return {
    id: 'subspace',
    title: 'Subspace alignment of dW with the base weights',
    caption:
      'ratio_top: how much more of dW lies in the top 10% singular block of each base weight than a random update would put there (1 = chance); ' +
      'ratio_weak: the same for the residual directions the unembedding reads least, for the modules that write the residual (o_proj, down_proj).',
    columns,
    rows,
    sources: stages.map((s) => ({ stageId: s.stageId, files: ['subspace_summary.csv'] })),
    notes: [],
  };
}
