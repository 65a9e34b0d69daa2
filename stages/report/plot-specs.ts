/**
 * Vega-Lite specs for the report's plots. Data are inlined (`data.values`) so the rendered SVG depends on nothing
 * outside the spec. Each builder takes plain rows, so the specs can be checked without rendering.
 */
import type { TopLevelSpec } from 'vega-lite';

const WIDTH = 520;
const HEIGHT = 280;

const baseConfig = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#e6e6e6', labelLimit: 320 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400 },
  title: { fontSize: 14, anchor: 'start' as const },
  view: { stroke: '#bbbbbb' },
};

export interface SiBarRow {
  method: string;
  SI_k2: number;
  SI_k1: number;
}

/** SI_k2 and SI_k1 per method as horizontal grouped bars, methods ordered as given (best first). */
export function siByMethodSpec(rows: readonly SiBarRow[], title: string): TopLevelSpec {
  const values = rows.flatMap((r) => [
    { method: r.method, score: 'SI_k2', value: finiteOrNull(r.SI_k2) },
    { method: r.method, score: 'SI_k1', value: finiteOrNull(r.SI_k1) },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: WIDTH,
    height: { step: 12 } as unknown as number,
    data: { values },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'method', type: 'nominal', sort: rows.map((r) => r.method), title: null },
          yOffset: { field: 'score', sort: ['SI_k2', 'SI_k1'] },
          x: { field: 'value', type: 'quantitative', title: 'surgical informedness (×100, higher is better)' },
          color: {
            field: 'score',
            type: 'nominal',
            sort: ['SI_k2', 'SI_k1'],
            scale: { range: ['#4c78a8', '#9ecae9'] },
            title: 'score',
          },
        },
      },
      {
        // its own one-row data: with the shared rows it would draw one rule per row
        data: { values: [{}] },
        mark: { type: 'rule', color: '#333333' },
        encoding: { x: { datum: 0 } },
      },
    ],
    config: baseConfig,
  } as TopLevelSpec;
}

export interface AlphaCurveRow {
  method: string;
  alpha: number;
  mean: number;
  std: number;
}

/**
 * Mean logratio_honesty against α, one small panel per method (shared scales), with a ±1 std band. Small
 * multiples because with the study's nine methods the bands of one shared panel cover each other.
 */
export function logratioVsAlphaSpec(rows: readonly AlphaCurveRow[], title: string): TopLevelSpec {
  const values = rows.map((r) => ({
    method: r.method,
    alpha: r.alpha,
    mean: r.mean,
    lo: r.mean - r.std,
    hi: r.mean + r.std,
  }));
  const methods = [...new Set(rows.map((r) => r.method))];
  const color = { field: 'method', type: 'nominal', legend: null, sort: methods } as const;
  const alphaX = { field: 'alpha', type: 'quantitative', title: 'α' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    facet: { field: 'method', type: 'nominal', title: null, sort: methods, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    columns: Math.min(3, Math.max(1, methods.length)),
    spec: {
      width: 230,
      height: 150,
      layer: [
        {
          mark: { type: 'area', opacity: 0.2 },
          encoding: {
            x: alphaX,
            y: { field: 'lo', type: 'quantitative', title: 'logratio_honesty' },
            y2: { field: 'hi' },
            color,
          },
        },
        {
          mark: { type: 'line', point: true, strokeWidth: 2 },
          encoding: { x: alphaX, y: { field: 'mean', type: 'quantitative' }, color },
        },
        {
          // one row per panel, so each panel draws one zero line
          transform: [{ aggregate: [{ op: 'count', as: 'n' }], groupby: ['method'] }],
          mark: { type: 'rule', color: '#888888', strokeDash: [4, 3] },
          encoding: { y: { datum: 0 } },
        },
      ],
    },
    config: baseConfig,
  } as TopLevelSpec;
}

export interface FixBrokeRow {
  method: string;
  fix_rate: number;
  broke_rate: number;
}

/**
 * Fix rate against broke rate at α = +1. The rule is SI_fwd(k=2) = 0 (fix = 2·broke): points above it fix more
 * than twice what they break.
 */
export function fixVsBrokeSpec(rows: readonly FixBrokeRow[], title: string): TopLevelSpec {
  const values = rows
    .filter((r) => Number.isFinite(r.fix_rate) && Number.isFinite(r.broke_rate))
    .map((r) => ({ method: r.method, fix_rate: r.fix_rate, broke_rate: r.broke_rate }));
  const maxBroke = Math.max(0.05, ...values.map((v) => v.broke_rate));
  const maxFix = Math.max(0.05, ...values.map((v) => v.fix_rate));
  const brokeEnd = Math.min(maxBroke * 1.1, (maxFix * 1.1) / 2);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: [{ x: 0, y: 0, x2: brokeEnd, y2: 2 * brokeEnd }] },
        mark: { type: 'rule', color: '#c0392b', strokeDash: [6, 4] },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          x2: { field: 'x2' },
          y2: { field: 'y2' },
        },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x: { field: 'broke_rate', type: 'quantitative', title: 'broke rate (honest rows made dishonest)' },
          y: { field: 'fix_rate', type: 'quantitative', title: 'fix rate (dishonest rows made honest)' },
          color: { field: 'method', type: 'nominal', title: 'method' },
          shape: { field: 'method', type: 'nominal' },
        },
      },
    ],
    config: baseConfig,
  } as TopLevelSpec;
}

export interface KlCurveRow {
  method: string;
  /** one line per (method, seed) */
  series: string;
  alpha: number;
  p95: number;
  iter: number;
}

/** The calibration search per method: p95 token-KL at each α it tried, with the target budget as a rule. */
export function klCalibrationSpec(rows: readonly KlCurveRow[], target: number, title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows.map((r) => ({ ...r })) },
    layer: [
      {
        mark: { type: 'line', point: { filled: true, size: 50 }, strokeWidth: 2 },
        encoding: {
          x: { field: 'alpha', type: 'quantitative', scale: { type: 'log' }, title: 'α (log scale)' },
          y: { field: 'p95', type: 'quantitative', title: 'p95 token KL(steered ‖ base), nats' },
          order: { field: 'alpha', type: 'quantitative' },
          color: { field: 'method', type: 'nominal', title: 'method' },
          detail: { field: 'series', type: 'nominal' },
        },
      },
      {
        data: { values: [{}] },
        mark: { type: 'rule', color: '#c0392b', strokeDash: [6, 4], strokeWidth: 2 },
        encoding: { y: { datum: target } },
      },
    ],
    config: baseConfig,
  } as TopLevelSpec;
}

export interface LossCurveRow {
  /** the facet: an adapter (and seed) */
  panel: string;
  /** the curve within it: the train stage's name (train_pos, train_neg) */
  run: string;
  step: number;
  loss: number;
  split: string;
}

/** Training loss per optimiser step: one panel per adapter with its own y scale, one curve per train stage. */
export function trainingLossSpec(rows: readonly LossCurveRow[], title: string): TopLevelSpec {
  const panels = [...new Set(rows.map((r) => r.panel))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values: rows.map((r) => ({ ...r })) },
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    columns: Math.min(3, Math.max(1, panels.length)),
    spec: {
      width: 200,
      height: 150,
      mark: { type: 'line', point: rows.length <= 400, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'optimiser step', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
        color: { field: 'run', type: 'nominal', title: 'stage' },
        strokeDash: { field: 'split', type: 'nominal', title: 'split' },
      },
    },
    resolve: { scale: { y: 'independent' } },
    config: baseConfig,
  } as TopLevelSpec;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
