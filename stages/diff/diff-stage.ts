/**
 * The `diff` stage: merge each adapter onto the base weights in memory (PEFT merge semantics, one module at a
 * time), take τ = merged − base against the checkpoint's own values, then dW.
 *
 * Outputs: dw.safetensors (float32; in bf16 mode every value is bf16-representable), diff_norms.csv,
 * diff_diagnostics.csv, dw_info.json (adapter label, merge dtype, mode, norms), provenance.json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AttachedAdapter } from '../../src/core/adapters/attached-adapter.js';
import { adapterTypeOf } from '../../src/core/adapters/adapter-config.js';
import { readPeftDir } from '../../src/core/adapters/peft-dir.js';
import { Checkpoint } from '../../src/core/checkpoint.js';
import { writeSafetensors } from '../../src/core/safetensors.js';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { DIFF_DIAGNOSTICS, DIFF_NORMS, FILES } from '../lib/artifacts.js';
import { writeTable } from '../lib/csv.js';
import { readJsonFile } from '../lib/json-file.js';
import { oneInput } from '../lib/stage-inputs.js';
import { computeDiff, keepTouched, perTensorNorms, roundToBf16, tauTensor, type MergeDtype } from '../lib/dw-ops.js';
import { loadModelForStage, markClean, markDirty, type LoadedModel } from '../lib/model/load-model.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { metricIfFinite, stageFacts } from '../lib/steer/stage-outputs.js';
import { DW_INFO_FILE, type DwInfo } from '../lib/steer/steering.js';
import { adapterDirOf } from './adapter-input.js';
import type { DiffParams } from './params.js';

function modelTypeOf(dir: string): string {
  const cfg = readJsonFile<{ model_type?: unknown }>(join(dir, 'config.json'));
  return typeof cfg.model_type === 'string' ? cfg.model_type : 'qwen3';
}

/** τ of one adapter: merged − base for every module it adapts, kept when touched. */
async function tauOf(loaded: LoadedModel, ckpt: Checkpoint, adapterDir: string, dtype: MergeDtype, seed: number, log: (m: string) => void): Promise<Map<string, Float32Array>> {
  const model = loaded.model;
  const tau = new Map<string, Float32Array>();
  markDirty(model);
  // asynchronous reads: webgpu cannot read a tensor synchronously in Node
  const att = await AttachedAdapter.loadAsync(model, adapterDir, { modelType: modelTypeOf(loaded.resolved.dir), seed, onWarning: (w) => log(`${adapterDir}: ${w}`) });
  try {
    for await (const w of att.mergedWeightsAsync()) {
      if (!ckpt.has(w.name)) throw new Error(`${adapterDir}: adapts ${w.name}, which the base checkpoint does not have`);
      tau.set(w.name, tauTensor(w.name, w.data, ckpt.readFloat32(w.name), dtype));
    }
  } finally {
    att.detach();
    markClean(model);
  }
  const kept = keepTouched(tau);
  log(`${adapterDir}: ${att.type} adapter, ${tau.size} adapted tensor(s), ${kept.size} changed by the merge${dtype === 'bf16' ? ' in bf16' : ''}`);
  return kept;
}

function labelOf(ctx: KindContext<DiffParams>, posDir: string): string {
  const explicit = ctx.params.adapter;
  if (explicit !== null) return explicit;
  const a = ctx.matrix['adapter'];
  if (a !== undefined) {
    const seed = ctx.matrix['seed'];
    // seed 0 is the reference study's: its methods keep the reference names (dW:lora); other seeds are suffixed
    return seed === undefined || seed === 0 || seed === '0' ? String(a) : `${String(a)}.s${String(seed)}`;
  }
  return adapterTypeOf(readPeftDir(posDir).config);
}

async function run(ctx: KindContext<DiffParams>): Promise<void> {
  const dtype = ctx.params.merge_dtype;
  const mode = ctx.params.mode;
  const seed = ctx.params.seed;
  const posDir = adapterDirOf(oneInput(ctx, 'pos', 'a train stage').dir, `stage ${ctx.stageId} input "pos"`);
  const negDir = adapterDirOf(oneInput(ctx, 'neg', 'a train stage').dir, `stage ${ctx.stageId} input "neg"`);
  const label = labelOf(ctx, posDir);
  const loaded = await loadModelForStage(ctx);
  const md = loaded.resolved.modelDir;
  const ckpt = Checkpoint.openDir(md.dir, md.weightFiles, md.indexFile);
  let tauPos: Map<string, Float32Array>;
  let tauNeg: Map<string, Float32Array>;
  try {
    tauPos = await tauOf(loaded, ckpt, posDir, dtype, seed, (m) => ctx.log(m));
    ctx.progress({ done: 1, total: 2, unit: 'adapters' });
    if (ctx.signal.aborted) throw new Error('aborted');
    tauNeg = await tauOf(loaded, ckpt, negDir, dtype, seed, (m) => ctx.log(m));
    ctx.progress({ done: 2, total: 2, unit: 'adapters' });
  } finally {
    ckpt.close();
  }
  const res = computeDiff(tauPos, tauNeg, mode);
  for (const w of res.warnings) ctx.log(`warning: ${w}`);
  if (dtype === 'bf16') for (const [k, v] of res.dw) res.dw.set(k, roundToBf16(v));
  const norms = perTensorNorms(tauPos, tauNeg, res.dw);
  const norm = Math.sqrt(norms.reduce((s, r) => s + r.norm_dw * r.norm_dw, 0));
  const d = res.diagnostics;
  const info: DwInfo & Record<string, unknown> = {
    adapter: label,
    merge_dtype: dtype,
    mode,
    n_keys: res.dw.size,
    n_params: d.n_params,
    norm,
    norm_tau_pos: d.norm_tau_pos,
    norm_tau_neg: d.norm_tau_neg,
    only_pos: res.onlyPos,
    only_neg: res.onlyNeg,
    warnings: res.warnings,
    merge_note:
      dtype === 'bf16'
        ? 'bf16: weights, τ and dW rounded to bf16 as the study merged (its arithmetic was bf16 throughout; ours is float32 then rounded)'
        : 'f32: τ = merged − base in float32 (the study merged in bf16; merge_dtype: bf16 reproduces that)',
  };
  writeSafetensors(
    join(ctx.outDir, FILES.dw),
    [...res.dw].map(([name, data]) => ({ name, shape: loaded.model.parameterShape(name), data })),
    { format: 'pt', adapter: label, merge_dtype: dtype, mode },
  );
  writeTable(ctx.outDir, DIFF_NORMS, norms);
  writeTable(ctx.outDir, DIFF_DIAGNOSTICS, [d]);
  writeFileSync(join(ctx.outDir, DW_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  ctx.log(`dW:${label}: ${res.dw.size} tensors, ${d.n_params} parameters, ‖dW‖ = ${norm.toPrecision(5)}, ‖τ+‖ = ${d.norm_tau_pos.toPrecision(5)}, ‖τ−‖ = ${d.norm_tau_neg.toPrecision(5)}, cos(τ+, −τ−) = ${d.cos_anti.toFixed(3)}`);
  ctx.metric('norm_dW', norm);
  for (const [k, v] of Object.entries(d)) if (k !== 'norm_dW') metricIfFinite(ctx, k, v);
  for (const r of norms) ctx.metric(`norm_dw/${r.name}`, r.norm_dw);
  writeStageProvenance(ctx, stageFacts(ctx.kind.name, ctx.kind.version, loaded.resolved, loaded.backend));
}

export const diffImplementation: KindImplementation<DiffParams> = { run };
