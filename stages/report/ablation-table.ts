/**
 * The DeLoRA magnitude/direction ablation table (study-ref §12): SI and flip counts per dW variant, with the mean
 * logratio_honesty shift at ±1 against α = 0.
 */
import { ABLATION_VARIANTS, parseMethod, type AblationPerRowRow, type DiffDiagnosticsRow } from '../lib/artifacts.js';
import { armsAtCoeffs, mean, SENTINEL_COUNT, siFromRows } from '../lib/si.js';
import { ReportInputError, type StageRows } from './load-inputs.js';
import { splitSeed } from './seed-groups.js';
import type { CellValue, ReportTable } from './table-model.js';

type Matrix = Readonly<Record<string, string | number | boolean>>;

/** The seed a stage ran for (matrix value `seed`; 0 when the stage has no seed axis). */
function seedOf(matrix: Matrix): number {
  const s = Number(matrix.seed ?? 0);
  return Number.isFinite(s) ? s : 0;
}

/**
 * The adapter an ablation stage ablated and its seed. The shipped `ablate` stage expands only over behaviour and seed
 * (it is DeLoRA's ablation), so the adapter comes from its rows' method column (dW:<adapter>[.s<seed>]); a matrix
 * value `adapter` wins when a pipeline has one.
 */
function ablatedAdapter(stage: StageRows<AblationPerRowRow>): { adapter: string; seed: number } {
  const methods = [...new Set(stage.rows.map((r) => r.method))];
  if (stage.matrix.adapter !== undefined) return { adapter: String(stage.matrix.adapter), seed: seedOf(stage.matrix) };
  if (methods.length !== 1) {
    throw new ReportInputError(
      `report input "ablation": ${stage.file}: column method has ${methods.length} values (${methods.join(', ')}); an ablation stage ablates one dW`,
    );
  }
  let parsed;
  try {
    parsed = parseMethod(methods[0] as string);
  } catch (err) {
    throw new ReportInputError(`report input "ablation": ${stage.file}: column method: ${(err as Error).message}`);
  }
  if (parsed.kind !== 'dW') throw new ReportInputError(`report input "ablation": ${stage.file}: column method is ${methods[0]}, not a dW:<adapter>`);
  const { name, seed } = splitSeed(`dW:${parsed.adapter}`);
  return { adapter: name.slice(3), seed: stage.matrix.seed === undefined ? seed : seedOf(stage.matrix) };
}

function variantOrder(v: string): number {
  const i = (ABLATION_VARIANTS as readonly string[]).indexOf(v);
  return i >= 0 ? i : ABLATION_VARIANTS.length;
}

export function ablationTable(stages: readonly StageRows<AblationPerRowRow>[], diffs: readonly StageRows<DiffDiagnosticsRow>[]): ReportTable {
  const rows: Record<string, CellValue>[] = [];
  const notes: string[] = [];
  const sources = stages.map((s) => ({ stageId: s.stageId, files: [base(s.file)] }));
  const multiSeed = new Set(stages.map((s) => ablatedAdapter(s).seed)).size > 1;
  for (const stage of stages) {
    const { adapter: name, seed } = ablatedAdapter(stage);
    const adapter = multiSeed ? `${name} (seed ${seed})` : name;
    const byVariant = new Map<string, AblationPerRowRow[]>();
    for (const r of stage.rows) {
      const list = byVariant.get(r.variant) ?? [];
      list.push(r);
      byVariant.set(r.variant, list);
    }
    const variants = [...byVariant.keys()].sort((a, b) => variantOrder(a) - variantOrder(b) || (a < b ? -1 : 1));
    for (const variant of variants) {
      const label = `${stage.stageId} variant ${variant}`;
      let arms;
      let m;
      try {
        arms = armsAtCoeffs(byVariant.get(variant) ?? [], {}, label);
        m = siFromRows(arms, { label });
      } catch (err) {
        throw new ReportInputError(`report input "ablation": ${stage.file}: ${(err as Error).message}`);
      }
      const lr0 = mean(arms.ref.map((r) => r.logratio_honesty));
      const lrAt = (rs: readonly AblationPerRowRow[] | undefined): number | null => (rs === undefined ? null : mean(rs.map((r) => r.logratio_honesty)));
      const lrPos = lrAt(arms.pos);
      const lrNeg = lrAt(arms.neg);
      rows.push({
        adapter,
        variant,
        SI: m.SI_k2,
        si_fwd: m.direction === 'reverse' ? null : m.si_fwd,
        si_rev: m.direction === 'forward' ? null : m.si_rev,
        fix_fwd: m.fix_fwd === SENTINEL_COUNT ? null : m.fix_fwd,
        broke_fwd: m.broke_fwd === SENTINEL_COUNT ? null : m.broke_fwd,
        flip_rev: m.flip_rev === SENTINEL_COUNT ? null : m.flip_rev,
        counter_rev: m.counter_rev === SENTINEL_COUNT ? null : m.counter_rev,
        lr_at_zero: lr0,
        delta_pos: lrPos === null ? null : lrPos - lr0,
        delta_neg: lrNeg === null ? null : lrNeg - lr0,
        source: stage.stageId,
      });
    }
    const diff = diffs.find((d) => d.matrix.adapter !== undefined && String(d.matrix.adapter) === name && seedOf(d.matrix) === seed);
    const norm = diff?.rows[0]?.norm_dW;
    if (norm !== undefined && diff !== undefined) {
      notes.push(`‖dW‖_F of ${adapter} = ${norm.toFixed(2)} (from ${diff.stageId}).`);
      sources.push({ stageId: diff.stageId, files: [base(diff.file)] });
    } else {
      notes.push(`‖dW‖_F of ${adapter}: no diff stage for adapter ${name}, seed ${seed} is connected to the report's "diff" input.`);
    }
  }
  for (const v of ABLATION_VARIANTS) {
    if (stages.length > 0 && !rows.some((r) => r.variant === v)) notes.push(`variant ${v} is absent from the ablation outputs.`);
  }
  return {
    id: 'delora-ablation',
    title: 'DeLoRA ablation: magnitude vs direction of dW',
    caption:
      'full = dW; dir_only keeps each tensor\'s direction at a common norm; mag_only keeps each tensor\'s norm with a random direction; ' +
      'random_norm is a random direction at the common norm (control). SI at k = 2 against α = 0; Δ = mean logratio_honesty at ±1 minus at 0.',
    columns: [
      { key: 'adapter', header: 'adapter' },
      { key: 'variant', header: 'variant' },
      { key: 'SI', header: 'SI', format: { type: 'fixed', digits: 2, signed: true } },
      { key: 'si_fwd', header: 'si_fwd', format: { type: 'fixed', digits: 3, signed: true } },
      { key: 'si_rev', header: 'si_rev', format: { type: 'fixed', digits: 3, signed: true } },
      { key: 'fix_fwd', header: 'fix @+1', format: { type: 'int' } },
      { key: 'broke_fwd', header: 'broke @+1', format: { type: 'int' } },
      { key: 'flip_rev', header: 'flip @−1', format: { type: 'int' } },
      { key: 'counter_rev', header: 'counter @−1', format: { type: 'int' } },
      { key: 'lr_at_zero', header: 'lr @0', format: { type: 'fixed', digits: 3 } },
      { key: 'delta_pos', header: 'Δ@+1', format: { type: 'fixed', digits: 3, signed: true } },
      { key: 'delta_neg', header: 'Δ@−1', format: { type: 'fixed', digits: 3, signed: true } },
      { key: 'source', header: 'source' },
    ],
    rows,
    sources,
    notes,
  };
}

function base(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}
