/**
 * The `subspace` stage (study-ref §6): for every 2-D dW tensor whose shape matches its base weight W, the SVD-of-W
 * alignment, and for the residual writers (o_proj, down_proj) the weak-readout alignment through the unembedding
 * (lm_head.weight, or model.embed_tokens.weight when the embeddings are tied).
 *
 * Base weights are taken at the dW's precision (its diff stage's merge_dtype): bf16 rounds W and the unembedding to
 * bf16 as the reference's bf16 model holds them (a bf16 checkpoint is unchanged by it).
 *
 * Outputs: subspace_per_layer.csv, subspace_summary.csv, subspace_info.json (ratio_weak_write, the unembedding
 * used, k_weak), provenance.json. Metrics: ratio_weak_write, mean_ratio_top/<kind>, mean_ratio_weak/<kind>.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checkpoint } from '../../src/core/checkpoint.js';
import { readQwen3Config } from '../../src/core/qwen3/config.js';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { SUBSPACE_PER_LAYER, SUBSPACE_SUMMARY, type SubspacePerLayerRow, type SubspaceSummaryRow } from '../lib/artifacts.js';
import { writeTable } from '../lib/csv.js';
import { roundToBf16 } from '../lib/dw-ops.js';
import { modelFromContext } from '../lib/model/model-ref.js';
import { nanmean, stdDdof1 } from '../lib/numeric.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { stageFacts } from '../lib/steer/stage-outputs.js';
import { readDwOutput } from '../lib/steer/dw-file.js';
import { oneInput } from '../lib/stage-inputs.js';
import type { SubspaceParams } from './params.js';
import { svdAlignment, weakAlignment, weakReadoutBasis, type WeakBasis } from './subspace-math.js';

export const SUBSPACE_INFO_FILE = 'subspace_info.json';
/** the modules whose output dimension is the residual width (§6.2) */
export const RESIDUAL_WRITERS = ['o_proj', 'down_proj'] as const;

function kindOf(name: string): string | null {
  return /\.([A-Za-z0-9]+_proj)\.weight$/.exec(name)?.[1] ?? null;
}

function layerOf(name: string): number {
  const m = /\.layers\.(\d+)\./.exec(name);
  return m?.[1] === undefined ? -1 : parseInt(m[1], 10);
}

function nonNaN(xs: readonly number[]): number[] {
  return xs.filter((x) => !Number.isNaN(x));
}

/** Group the per-tensor rows by kind (sorted, as pandas' groupby): NaN-skipping mean, ddof-1 std. */
export function summarise(rows: readonly SubspacePerLayerRow[]): SubspaceSummaryRow[] {
  const kinds = [...new Set(rows.map((r) => r.kind))].sort();
  return kinds.map((kind) => {
    const g = rows.filter((r) => r.kind === kind);
    const top = nonNaN(g.map((r) => r.ratio_top));
    const weak = nonNaN(g.map((r) => r.ratio_weak));
    return {
      kind,
      mean_ratio_top: nanmean(top),
      std_ratio_top: stdDdof1(top),
      mean_ratio_weak: nanmean(weak),
      std_ratio_weak: stdDdof1(weak),
      mean_norm: nanmean(g.map((r) => r.norm)),
      n: g.length,
    };
  });
}

/** The sweep's ratio_weak_write: the mean of mean_ratio_weak over o_proj and down_proj (those present). */
export function ratioWeakWrite(summary: readonly SubspaceSummaryRow[]): number {
  return nanmean(summary.filter((s) => (RESIDUAL_WRITERS as readonly string[]).includes(s.kind)).map((s) => s.mean_ratio_weak));
}

/**
 * The weak basis of the last unembedding seen: every subspace stage of a study shares one base model, and a worker
 * runs them one after another, so the vocab×hidden Gram matrix is formed once per worker rather than once per dW.
 */
let lastWeak: { key: string; basis: WeakBasis } | undefined;

function unembeddingName(ckpt: Checkpoint, tied: boolean): string {
  if (!tied && ckpt.has('lm_head.weight')) return 'lm_head.weight';
  if (ckpt.has('model.embed_tokens.weight')) return 'model.embed_tokens.weight';
  throw new Error('the base checkpoint has neither lm_head.weight nor model.embed_tokens.weight');
}

async function run(ctx: KindContext<SubspaceParams>): Promise<void> {
  const dwDir = oneInput(ctx, 'dw', 'a diff stage').dir;
  const { dw, info } = readDwOutput(dwDir);
  const resolved = modelFromContext(ctx);
  const cfg = readQwen3Config(resolved.dir);
  if (!cfg.ok) throw new Error(cfg.error);
  const atPrecision = (x: Float32Array): Float32Array => (info.merge_dtype === 'bf16' ? roundToBf16(x) : x);
  const md = resolved.modelDir;
  const ckpt = Checkpoint.openDir(md.dir, md.weightFiles, md.indexFile);
  const rows: SubspacePerLayerRow[] = [];
  let weak: WeakBasis | undefined;
  let unembed = '';
  try {
    unembed = unembeddingName(ckpt, cfg.value.tieWordEmbeddings);
    const names = [...dw.keys()].sort();
    let done = 0;
    for (const name of names) {
      if (ctx.signal.aborted) throw new Error('aborted');
      const w = dw.get(name) as Float32Array;
      const baseInfo = ckpt.info(name);
      const kind = kindOf(name);
      if (baseInfo === undefined || kind === null || baseInfo.shape.length !== 2) {
        ctx.log(`skipping ${name}: ${baseInfo === undefined ? 'not in the base checkpoint' : kind === null ? 'not a *_proj.weight' : 'not 2-D'}`);
        continue;
      }
      const [rowsN, colsN] = baseInfo.shape as [number, number];
      if (rowsN * colsN !== w.length) throw new Error(`${join(dwDir, 'dw.safetensors')}: tensor ${name} has ${w.length} values but the base weight is ${rowsN}×${colsN}`);
      const top = svdAlignment(atPrecision(ckpt.readFloat32(name)), w, rowsN, colsN, ctx.params.k_frac);
      let weakCols = { energy_weak: NaN, null_weak: NaN, ratio_weak: NaN };
      if ((RESIDUAL_WRITERS as readonly string[]).includes(kind)) {
        if (weak === undefined) {
          const key = `${resolved.ref.fingerprint}|${unembed}|${info.merge_dtype}|${ctx.params.weak_frac}`;
          if (lastWeak?.key !== key) {
            const e = ckpt.info(unembed);
            if (e?.shape.length !== 2) throw new Error(`${unembed} in the base checkpoint is not 2-D`);
            const [vocab, hidden] = e.shape as [number, number];
            lastWeak = { key, basis: weakReadoutBasis(atPrecision(ckpt.readFloat32(unembed)), vocab, hidden, ctx.params.weak_frac) };
          }
          weak = lastWeak.basis;
        }
        weakCols = weakAlignment(weak, w, rowsN, colsN);
      }
      let ss = 0;
      for (let i = 0; i < w.length; i++) ss += (w[i] as number) ** 2;
      rows.push({ name, layer_idx: layerOf(name), kind, shape: `(${rowsN}, ${colsN})`, norm: Math.sqrt(ss), ...top, ...weakCols });
      ctx.progress({ done: ++done, total: names.length, unit: 'tensors' });
    }
  } finally {
    ckpt.close();
  }
  if (rows.length === 0) throw new Error(`${join(dwDir, 'dw.safetensors')}: no 2-D *_proj.weight tensor matches a base weight; nothing to analyse`);
  rows.sort((a, b) => a.layer_idx - b.layer_idx || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const summary = summarise(rows);
  const rww = ratioWeakWrite(summary);
  writeTable(ctx.outDir, SUBSPACE_PER_LAYER, rows);
  writeTable(ctx.outDir, SUBSPACE_SUMMARY, summary);
  const subspaceInfo = {
    adapter: info.adapter,
    merge_dtype: info.merge_dtype,
    unembedding: unembed,
    k_frac: ctx.params.k_frac,
    weak_frac: ctx.params.weak_frac,
    k_weak: weak?.kWeak ?? null,
    ratio_weak_write: Number.isFinite(rww) ? rww : null,
  };
  writeFileSync(join(ctx.outDir, SUBSPACE_INFO_FILE), `${JSON.stringify(subspaceInfo, null, 2)}\n`);
  if (Number.isFinite(rww)) ctx.metric('ratio_weak_write', rww);
  for (const s of summary) {
    if (Number.isFinite(s.mean_ratio_top)) ctx.metric(`mean_ratio_top/${s.kind}`, s.mean_ratio_top);
    if (Number.isFinite(s.mean_ratio_weak)) ctx.metric(`mean_ratio_weak/${s.kind}`, s.mean_ratio_weak);
  }
  ctx.log(`dW:${info.adapter}: ${rows.length} tensors; ratio_weak_write = ${rww.toPrecision(4)} (unembedding ${unembed})`);
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, resolved, null));
}

export const subspaceImplementation: KindImplementation<SubspaceParams> = { run };
