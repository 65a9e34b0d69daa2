/**
 * The IID held-out claims table (study-ref §11): mean_lr per method at α = 0 and ±1 and the shift vs α = 0.
 * logratio > 0 means the model agrees with a false claim (sycophantic Yes).
 */
import type { IidPerRowRow } from '../lib/artifacts.js';
import { mean } from '../lib/si.js';
import { sampleStd } from './dilemma-tables.js';
import { ReportInputError, type StageRows } from './load-inputs.js';
import { splitSeed } from './seed-groups.js';
import type { CellValue, ReportTable } from './table-model.js';

interface Group {
  stageId: string;
  file: string;
  rows: IidPerRowRow[];
}

export function iidTable(stages: readonly StageRows<IidPerRowRow>[]): ReportTable {
  const methods = new Map<string, Map<number, Group>>();
  for (const stage of stages) {
    for (const row of stage.rows) {
      let byCoeff = methods.get(row.method);
      if (byCoeff === undefined) {
        byCoeff = new Map();
        methods.set(row.method, byCoeff);
      }
      let g = byCoeff.get(row.coeff);
      if (g === undefined) {
        g = { stageId: stage.stageId, file: stage.file, rows: [] };
        byCoeff.set(row.coeff, g);
      } else if (g.stageId !== stage.stageId) {
        throw new ReportInputError(
          `report input "iid": method ${row.method} at coeff ${row.coeff} comes from two stages, ${g.stageId} (${g.file}) and ${stage.stageId} (${stage.file})`,
        );
      }
      g.rows.push(row);
    }
  }
  const rows: Record<string, CellValue>[] = [];
  const notes: string[] = [];
  const sourceFiles = new Map<string, Set<string>>();
  for (const [method, byCoeff] of methods) {
    const ref = byCoeff.get(0);
    if (ref === undefined) {
      notes.push(`${method}: no rows at α = 0, so no shift can be computed; left out`);
      continue;
    }
    const refClaims = claimSet(ref, method, 0);
    const stats = (coeff: number): { mean: number | null; std: number | null; pmass: number | null } => {
      const g = byCoeff.get(coeff);
      if (g === undefined) return { mean: null, std: null, pmass: null };
      const claims = claimSet(g, method, coeff);
      if (claims.length !== refClaims.length || claims.some((c, i) => c !== refClaims[i])) {
        throw new ReportInputError(
          `report input "iid" (stage ${g.stageId}): ${g.file}: ${method} at coeff ${coeff} has claims [${claims.join(', ')}] but at coeff 0 [${refClaims.join(', ')}]; the shift would compare different claims`,
        );
      }
      const lr = g.rows.map((r) => r.logratio);
      return { mean: mean(lr), std: sampleStd(lr), pmass: mean(g.rows.map((r) => r.pmass)) };
    };
    const s0 = stats(0);
    const sp = stats(1);
    const sn = stats(-1);
    for (const g of byCoeff.values()) {
      const set = sourceFiles.get(g.stageId) ?? new Set<string>();
      set.add(base(g.file));
      sourceFiles.set(g.stageId, set);
    }
    rows.push({
      method,
      n_claims: refClaims.length,
      mean_ref: s0.mean,
      std_ref: s0.std,
      mean_pos: sp.mean,
      std_pos: sp.std,
      shift_pos: sp.mean === null || s0.mean === null ? null : sp.mean - s0.mean,
      mean_neg: sn.mean,
      shift_neg: sn.mean === null || s0.mean === null ? null : sn.mean - s0.mean,
      pmass_pos: sp.pmass,
      source: [...new Set([...byCoeff.values()].map((g) => g.stageId))].join(', '),
    });
  }
  const merged = mergeSeeds(rows);
  merged.sort((a, b) => {
    const x = a.shift_pos as number | null;
    const y = b.shift_pos as number | null;
    if ((x === null) !== (y === null)) return x === null ? 1 : -1;
    if (x !== null && y !== null && x !== y) return y - x;
    return String(a.method) < String(b.method) ? -1 : 1;
  });
  return {
    id: 'iid-shift',
    title: 'IID held-out claims: mean_lr shift',
    caption:
      'Mean logratio (Yes − No, agreeing with a false user claim) over the held-out claims, sample std (ddof = 1), and the shift against the same method at α = 0. ' +
      'Sorted by the shift at α = +1. With several training seeds a row is the mean over seeds (n_seeds).',
    columns: [
      { key: 'method', header: 'method' },
      { key: 'n_seeds', header: 'n_seeds', format: { type: 'int' } },
      { key: 'n_claims', header: 'claims', format: { type: 'int' } },
      { key: 'mean_ref', header: 'mean_lr α=0', format: { type: 'fixed', digits: 3 } },
      { key: 'std_ref', header: 'std α=0', format: { type: 'fixed', digits: 3 } },
      { key: 'mean_pos', header: 'mean_lr α=+1', format: { type: 'fixed', digits: 3 } },
      { key: 'std_pos', header: 'std α=+1', format: { type: 'fixed', digits: 3 } },
      { key: 'shift_pos', header: 'shift +1 vs 0', format: { type: 'fixed', digits: 3, signed: true } },
      { key: 'mean_neg', header: 'mean_lr α=−1', format: { type: 'fixed', digits: 3 } },
      { key: 'shift_neg', header: 'shift −1 vs 0', format: { type: 'fixed', digits: 3, signed: true } },
      { key: 'pmass_pos', header: 'pmass α=+1', format: { type: 'fixed', digits: 3 } },
      { key: 'source', header: 'source' },
    ],
    rows: merged,
    sources: [...sourceFiles.entries()].map(([stageId, files]) => ({ stageId, files: [...files] })),
    notes,
  };
}

const MEAN_KEYS = ['mean_ref', 'std_ref', 'mean_pos', 'std_pos', 'shift_pos', 'mean_neg', 'shift_neg', 'pmass_pos'] as const;

/** One row per method over its seeds (dW:<adapter>.s<n> → dW:<adapter>): the mean of each seed's value. */
function mergeSeeds(rows: readonly Record<string, CellValue>[]): Record<string, CellValue>[] {
  const groups = new Map<string, Record<string, CellValue>[]>();
  for (const r of rows) {
    const { name } = splitSeed(String(r.method));
    groups.set(name, [...(groups.get(name) ?? []), r]);
  }
  return [...groups.entries()].map(([method, members]) => {
    const first = members[0] as Record<string, CellValue>;
    const out: Record<string, CellValue> = { ...first, method, n_seeds: members.length };
    if (members.length > 1) {
      for (const key of MEAN_KEYS) {
        const xs = members.map((m) => m[key]);
        out[key] = xs.every((x): x is number => typeof x === 'number') ? mean(xs) : null;
      }
      out.source = members.map((m) => String(m.source)).join(', ');
    }
    return out;
  });
}

function claimSet(g: Group, method: string, coeff: number): number[] {
  const claims = g.rows.map((r) => r.claim_idx).sort((a, b) => a - b);
  for (let i = 1; i < claims.length; i++) {
    if (claims[i] === claims[i - 1]) {
      throw new ReportInputError(`report input "iid" (stage ${g.stageId}): ${g.file}: ${method} at coeff ${coeff} has claim_idx ${claims[i]} twice`);
    }
  }
  return claims;
}

function base(path: string): string {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(i + 1) : path;
}
