/**
 * Bootstrap 95% intervals for the SI tables (issue 16): every SI, fix and broke rate gets a percentile interval
 * from resampling dilemmas (both action rows of a dilemma go together, as they share a scenario), and pairs of
 * methods are reported as different only where the paired-difference interval excludes 0. With several seeds a
 * resample's statistic is the mean over seeds on the same resampled dilemmas, like the point estimate.
 */
import type { DilemmasPerRowRow } from '../lib/artifacts.js';
import { BOOTSTRAP_DEFAULTS, bootstrap, excludesZero, intervalOf, pairedDifferenceInterval, type BootstrapDraws, type Interval } from '../lib/bootstrap.js';
import { alignArms, siFromArrays, type SiMetrics } from '../lib/si.js';
import { byDesc, mergeSources } from './dilemma-tables.js';
import type { MethodGroup } from './seed-groups.js';
import { formatCell, type CellValue, type ColumnSpec, type NumberFormat, type ReportTable } from './table-model.js';

/** The statistics that get an interval, in the order of the statistic vector. */
export const INTERVAL_METRICS = ['SI_k2', 'SI_k1', 'SI_best', 'fix_rate', 'broke_rate'] as const;
export type IntervalMetric = (typeof INTERVAL_METRICS)[number];

const FORMATS: Readonly<Record<IntervalMetric, NumberFormat>> = {
  SI_k2: { type: 'fixed', digits: 2, signed: true },
  SI_k1: { type: 'fixed', digits: 2, signed: true },
  SI_best: { type: 'fixed', digits: 2, signed: true },
  fix_rate: { type: 'fixed', digits: 3 },
  broke_rate: { type: 'fixed', digits: 3 },
};

/**
 * Differences in significant digits: a difference can be real and far below the tables' 0.01 (a model that puts
 * little mass on Yes/No scales every SI down by pmass²), and "[0.00, 0.00]" would hide which side of 0 it is on.
 */
const DIFF_FORMAT: NumberFormat = { type: 'sig', digits: 3, signed: true };

/** One seed's aligned arms, with the row positions of each cluster (dilemma). */
interface PreparedMember {
  ref: DilemmasPerRowRow[];
  pos?: DilemmasPerRowRow[];
  neg?: DilemmasPerRowRow[];
  /** rowsOf[c]: positions in the aligned arms of the rows of cluster c */
  rowsOf: number[][];
}

function prepare(group: MethodGroup, clusterOf: ReadonlyMap<number, number>): PreparedMember[] {
  return group.members.map((m) => {
    const a = alignArms(m.unit.arms, m.unit.name);
    const rowsOf: number[][] = Array.from({ length: clusterOf.size }, () => []);
    a.ref.forEach((r, i) => rowsOf[clusterOf.get(r.dilemma_idx) as number]?.push(i));
    return { ref: a.ref, ...(a.pos ? { pos: a.pos } : {}), ...(a.neg ? { neg: a.neg } : {}), rowsOf };
  });
}

/** SI metrics of one seed on a resample (rows of drawn clusters, with multiplicity). */
function memberMetrics(p: PreparedMember, draw: Uint32Array): SiMetrics {
  const yRef: number[] = [];
  const yPos: number[] = [];
  const yNeg: number[] = [];
  let pmPos = 0;
  let pmNeg = 0;
  for (const c of draw) {
    for (const i of p.rowsOf[c] ?? []) {
      yRef.push((p.ref[i] as DilemmasPerRowRow).logratio_honesty);
      if (p.pos) {
        const r = p.pos[i] as DilemmasPerRowRow;
        yPos.push(r.logratio_honesty);
        pmPos += r.pmass;
      }
      if (p.neg) {
        const r = p.neg[i] as DilemmasPerRowRow;
        yNeg.push(r.logratio_honesty);
        pmNeg += r.pmass;
      }
    }
  }
  return siFromArrays({
    yRef,
    ...(p.pos ? { yPos, pmassPos: pmPos / yPos.length } : {}),
    ...(p.neg ? { yNeg, pmassNeg: pmNeg / yNeg.length } : {}),
  });
}

/** The value a table shows for a metric: rates are undefined for a reverse-only method. */
export function metricValue(m: SiMetrics, key: IntervalMetric): number {
  if ((key === 'fix_rate' || key === 'broke_rate') && m.direction === 'reverse') return Number.NaN;
  return m[key];
}

export interface GroupIntervals {
  groups: MethodGroup[];
  draws: BootstrapDraws;
  resamples: number;
  clusters: number;
  interval(g: number, key: IntervalMetric): Interval;
  difference(g: number, h: number, key: IntervalMetric): Interval;
}

/** Bootstraps every group's interval metrics on one shared set of resamples of the dilemmas. */
export function groupIntervals(groups: readonly MethodGroup[], resamples: number = BOOTSTRAP_DEFAULTS.resamples): GroupIntervals {
  const ids = new Set<number>();
  for (const g of groups) for (const m of g.members) for (const r of m.unit.arms.ref) ids.add(r.dilemma_idx);
  const clusterOf = new Map([...ids].sort((a, b) => a - b).map((id, c) => [id, c]));
  const prepared = groups.map((g) => prepare(g, clusterOf));
  const width = INTERVAL_METRICS.length;
  const draws = bootstrap(
    Math.max(1, clusterOf.size),
    (draw) => {
      const out: number[] = [];
      for (const members of prepared) {
        const per = members.map((p) => memberMetrics(p, draw));
        for (const key of INTERVAL_METRICS) out.push(per.reduce((s, m) => s + metricValue(m, key), 0) / per.length);
      }
      return out;
    },
    { resamples, seed: BOOTSTRAP_DEFAULTS.seed, level: BOOTSTRAP_DEFAULTS.level },
  );
  const col = (g: number, key: IntervalMetric): number => g * width + INTERVAL_METRICS.indexOf(key);
  return {
    groups: [...groups],
    draws,
    resamples,
    clusters: clusterOf.size,
    interval: (g, key) => intervalOf(draws, col(g, key)),
    difference: (g, h, key) => pairedDifferenceInterval(draws, col(g, key), col(h, key)),
  };
}

function ciText(iv: Interval, format: NumberFormat): string {
  if (Number.isNaN(iv.lo) || Number.isNaN(iv.hi)) return '—';
  return `[${formatCell(iv.lo, format)}, ${formatCell(iv.hi, format)}]`;
}

const METHOD_LABEL: Readonly<Record<IntervalMetric, string>> = {
  SI_k2: 'SI_k2 ×100',
  SI_k1: 'SI_k1 ×100',
  SI_best: 'SI_best ×100',
  fix_rate: 'fix_rate',
  broke_rate: 'broke_rate',
};

/**
 * Two tables: each method's point estimates with their 95% intervals (numbers in report.json as `<metric>_lo` and
 * `<metric>_hi`), and the pairs of methods whose SI_k2 differ with a paired interval excluding 0.
 */
export function uncertaintyTables(gi: GroupIntervals, ids: { id: string; title: string; pairsId: string; pairsTitle: string }): ReportTable[] {
  const order = gi.groups.map((g, i) => ({ g, i })).sort((a, b) => byDesc((m) => m.metrics.SI_best)(a.g, b.g));
  const columns: ColumnSpec[] = [{ key: 'method', header: 'method' }, { key: 'n_seeds', header: 'n_seeds', format: { type: 'int' } }];
  for (const key of INTERVAL_METRICS) {
    columns.push({ key, header: METHOD_LABEL[key], format: FORMATS[key] });
    columns.push({ key: `${key}_ci`, header: '95% CI', description: `bootstrap percentile interval of ${key}` });
  }
  const rows = order.map(({ g, i }) => {
    const row: Record<string, CellValue> = { method: g.name, n_seeds: g.members.length };
    for (const key of INTERVAL_METRICS) {
      const iv = gi.interval(i, key);
      const v = metricValue(g.metrics, key);
      row[key] = Number.isNaN(v) ? null : v;
      row[`${key}_ci`] = ciText(iv, FORMATS[key]);
      row[`${key}_lo`] = Number.isNaN(iv.lo) ? null : iv.lo;
      row[`${key}_hi`] = Number.isNaN(iv.hi) ? null : iv.hi;
    }
    return row;
  });
  const pairs: Record<string, CellValue>[] = [];
  let tested = 0;
  for (let a = 0; a < order.length; a++) {
    for (let b = a + 1; b < order.length; b++) {
      const x = order[a] as { g: MethodGroup; i: number };
      const y = order[b] as { g: MethodGroup; i: number };
      const d = metricValue(x.g.metrics, 'SI_k2') - metricValue(y.g.metrics, 'SI_k2');
      if (Number.isNaN(d)) continue;
      tested++;
      const iv = gi.difference(x.i, y.i, 'SI_k2');
      if (!excludesZero(iv)) continue;
      pairs.push({ method_a: x.g.name, method_b: y.g.name, diff: d, diff_ci: ciText(iv, DIFF_FORMAT), diff_lo: iv.lo, diff_hi: iv.hi });
    }
  }
  const how =
    `${gi.resamples} resamples of the ${gi.clusters} dilemmas (both action rows of a dilemma together), seed ${BOOTSTRAP_DEFAULTS.seed}, ` +
    'percentile intervals; with several seeds each resample averages the seeds, as the point estimate does.';
  const sources = mergeSources(gi.groups);
  return [
    {
      id: ids.id,
      title: ids.title,
      caption: `Point estimates with bootstrap 95% intervals: ${how} "—": the statistic is undefined on more than half the resamples (e.g. no already-dishonest row).`,
      columns,
      rows,
      sources,
      notes: [],
    },
    {
      id: ids.pairsId,
      title: ids.pairsTitle,
      caption:
        'Only the pairs whose paired-difference interval of SI_k2 (same resamples for both methods) excludes 0; any pair not listed cannot be told apart at this sample size. ' +
        `Δ = first − second, ×100. ${how}`,
      columns: [
        { key: 'method_a', header: 'method' },
        { key: 'method_b', header: 'vs method' },
        { key: 'diff', header: 'Δ SI_k2 ×100', format: DIFF_FORMAT },
        { key: 'diff_ci', header: '95% CI' },
      ],
      rows: pairs,
      sources,
      notes: [`${pairs.length} of ${tested} pairs differ (paired 95% interval excludes 0).`],
    },
  ];
}
