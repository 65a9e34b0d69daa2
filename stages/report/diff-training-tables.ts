/**
 * Context tables: the size and shape of each weight diff (study-ref §4.2 diagnostics) and the training runs behind them.
 */
import type { DiffDiagnosticsRow } from '../lib/artifacts.js';
import type { StageRows, TrainingInput } from './load-inputs.js';
import type { LossCurveRow } from './plot-specs.js';
import type { CellValue, ReportTable } from './table-model.js';

function label(stage: { stageId: string; matrix: Readonly<Record<string, string | number | boolean>> }): string {
  const a = stage.matrix.adapter;
  return a === undefined ? stage.stageId : String(a);
}

function base(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}

export function diffTable(stages: readonly StageRows<DiffDiagnosticsRow>[]): ReportTable {
  const rows: Record<string, CellValue>[] = [];
  const notes: string[] = [];
  for (const s of stages) {
    if (s.rows.length !== 1) notes.push(`${s.stageId}: ${base(s.file)} has ${s.rows.length} rows (expected 1); showing the first`);
    const r = s.rows[0];
    if (r === undefined) continue;
    rows.push({
      adapter: label(s),
      n_keys: r.n_keys,
      n_params: r.n_params,
      norm_tau_pos: r.norm_tau_pos,
      norm_tau_neg: r.norm_tau_neg,
      cos_anti: r.cos_anti,
      norm_dW: r.norm_dW,
      source: s.stageId,
    });
  }
  rows.sort((a, b) => (b.norm_dW as number) - (a.norm_dW as number));
  return {
    id: 'weight-diffs',
    title: 'Weight diffs dW = τ+ − τ−',
    caption:
      'Frobenius norms of the merged task vectors of the positive and negative adapters and of their difference; cos_anti is the cosine between τ+ and −τ− ' +
      '(1 when the two fine-tunes moved in exactly opposite directions). α is not comparable across methods: a large ‖dW‖ at α = 1 is a large edit.',
    columns: [
      { key: 'adapter', header: 'adapter' },
      { key: 'n_keys', header: 'tensors', format: { type: 'int' } },
      { key: 'n_params', header: 'parameters', format: { type: 'int' } },
      { key: 'norm_tau_pos', header: '‖τ+‖', format: { type: 'fixed', digits: 3 } },
      { key: 'norm_tau_neg', header: '‖τ−‖', format: { type: 'fixed', digits: 3 } },
      { key: 'cos_anti', header: 'cos_anti', format: { type: 'fixed', digits: 3, signed: true } },
      { key: 'norm_dW', header: '‖dW‖_F', format: { type: 'fixed', digits: 3 } },
      { key: 'source', header: 'source' },
    ],
    rows,
    sources: stages.map((s) => ({ stageId: s.stageId, files: [base(s.file)] })),
    notes,
  };
}

/**
 * Which panel of the loss plot a train stage goes to: one per adapter (and seed), the two persona fine-tunes
 * (train_pos, train_neg) as its two curves. On one shared axis the curves of a study lie on top of each other
 * (they start at the same loss), and 12 of them in one legend cannot be told apart.
 */
function lossPanel(s: TrainingInput): { panel: string; run: string } {
  const at = s.stageId.indexOf('@');
  const run = at > 0 ? s.stageId.slice(0, at) : s.stageId;
  const adapter = s.matrix.adapter;
  if (adapter === undefined) return { panel: s.stageId, run };
  const seed = s.matrix.seed;
  return { panel: seed === undefined || Number(seed) === 0 ? String(adapter) : `${String(adapter)} · seed ${String(seed)}`, run };
}

export function trainingTable(stages: readonly TrainingInput[]): { table: ReportTable; curve: LossCurveRow[] } {
  const rows: Record<string, CellValue>[] = [];
  const curve: LossCurveRow[] = [];
  for (const s of stages) {
    const losses = s.loss.map((r) => r.loss);
    const last = s.loss[s.loss.length - 1];
    const lastVal = s.val[s.val.length - 1];
    rows.push({
      stage: s.stageId,
      steps: last?.step ?? null,
      first_loss: s.loss[0]?.loss ?? null,
      final_loss: last?.loss ?? null,
      min_loss: losses.length > 0 ? Math.min(...losses) : null,
      final_val_loss: lastVal?.val_loss ?? null,
    });
    const { panel, run } = lossPanel(s);
    for (const r of s.loss) curve.push({ panel, run, step: r.step, loss: r.loss, split: 'train' });
    for (const r of s.val) curve.push({ panel, run, step: r.step, loss: r.val_loss, split: 'validation' });
  }
  rows.sort((a, b) => (String(a.stage) < String(b.stage) ? -1 : 1));
  return {
    table: {
      id: 'training',
      title: 'Training runs',
      caption: 'Loss of each adapter fine-tune (positive and negative persona) at its first and last logged step, and the last validation loss.',
      columns: [
        { key: 'stage', header: 'stage' },
        { key: 'steps', header: 'last step', format: { type: 'int' } },
        { key: 'first_loss', header: 'first loss', format: { type: 'fixed', digits: 4 } },
        { key: 'final_loss', header: 'final loss', format: { type: 'fixed', digits: 4 } },
        { key: 'min_loss', header: 'min loss', format: { type: 'fixed', digits: 4 } },
        { key: 'final_val_loss', header: 'final val loss', format: { type: 'fixed', digits: 4 } },
      ],
      rows,
      sources: stages.map((s) => ({ stageId: s.stageId, files: [s.lossFile, s.valFile].filter((f): f is string => f !== null).map(base) })),
      notes: [],
    },
    curve,
  };
}
