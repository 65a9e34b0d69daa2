/**
 * What a model directory holds, read from config.json and the safetensors headers only (no weights, no
 * TensorFlow.js): architecture, parameter count, dtypes, tied embeddings, tokenizer and chat template.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checkpoint } from './checkpoint.js';
import { resolveModelDir, type ResolveOptions } from './model-dir.js';
import { qwen3ParameterCount, readQwen3Config, type Qwen3Config } from './qwen3/config.js';
import { checkConfigAgainstWeights } from './qwen3/config-vs-weights.js';
import { qwen3ParamSpecs } from './qwen3/weights.js';
import { err, ok, type Result } from '../contract/result.js';

export interface ModelInspection {
  dir: string;
  source: 'path' | 'hf-cache';
  hubId?: string;
  revision?: string;
  architecture: string;
  config: Qwen3Config;
  /** parameters the model uses (a tied lm_head counted once), from the checkpoint headers */
  parameterCount: number;
  /** the same count computed from config.json alone */
  parameterCountFromConfig: number;
  /** stored dtype -> tensor count */
  dtypes: Record<string, number>;
  weightFiles: string[];
  sharded: boolean;
  tiedEmbeddings: boolean;
  /** checkpoint tensors the model does not use (a stored tied lm_head.weight, for instance) */
  unusedTensors: string[];
  /** model tensors the checkpoint lacks (the model would fail to load) */
  missingTensors: string[];
  tokenizer: boolean;
  chatTemplate: boolean;
  generationConfig: boolean;
}

function hasChatTemplate(dir: string): boolean {
  if (existsSync(join(dir, 'chat_template.jinja'))) return true;
  const tc = join(dir, 'tokenizer_config.json');
  if (!existsSync(tc)) return false;
  try {
    const t = (JSON.parse(readFileSync(tc, 'utf8')) as Record<string, unknown>)['chat_template'];
    return typeof t === 'string' || Array.isArray(t);
  } catch {
    return false;
  }
}

export function inspectModel(idOrPath: string, options: ResolveOptions = {}): Result<ModelInspection, string> {
  const md = resolveModelDir(idOrPath, options);
  if (!md.ok) return md;
  const { dir } = md.value;
  const cfg = readQwen3Config(dir);
  if (!cfg.ok) return cfg;
  const config = cfg.value;
  let ckpt: Checkpoint;
  try {
    ckpt = Checkpoint.openDir(dir, md.value.weightFiles, md.value.indexFile);
  } catch (e) {
    return err((e as Error).message);
  }
  try {
    // before anything is sized from the config: a config claiming 10^6 layers must not build 10^7 specs
    const consistent = checkConfigAgainstWeights(config, ckpt, join(dir, 'config.json'));
    if (!consistent.ok) return consistent;
    const specs = qwen3ParamSpecs(config);
    let count = 0;
    const missing: string[] = [];
    for (const s of specs) {
      const info = ckpt.info(s.name);
      if (info === undefined) missing.push(s.name);
      else count += info.shape.reduce((a, b) => a * b, 1);
    }
    const known = new Set(specs.map((s) => s.name));
    return ok({
      dir,
      source: md.value.source,
      ...(md.value.hubId !== undefined ? { hubId: md.value.hubId } : {}),
      ...(md.value.revision !== undefined ? { revision: md.value.revision } : {}),
      architecture: 'Qwen3ForCausalLM',
      config,
      parameterCount: count,
      parameterCountFromConfig: qwen3ParameterCount(config),
      dtypes: Object.fromEntries(ckpt.dtypes()),
      weightFiles: md.value.weightFiles,
      sharded: md.value.indexFile !== null,
      tiedEmbeddings: config.tieWordEmbeddings,
      unusedTensors: ckpt.names().filter((n) => !known.has(n)),
      missingTensors: missing,
      tokenizer: existsSync(join(dir, 'tokenizer.json')),
      chatTemplate: hasChatTemplate(dir),
      generationConfig: existsSync(join(dir, 'generation_config.json')),
    });
  } finally {
    ckpt.close();
  }
}
