/**
 * What the GPU check runs, shared by its wsflow half, its table and its tests: the shapes (the issue's: forward at
 * 1 × 64 and 4 × 128, a LoRA step at 4 × 512, on Qwen3-0.6B's dimensions; `tiny` is the same path at a few tokens
 * on a 2-layer model, for CPU tests), the study's LoRA settings, the text the ids come from, and the flag parser.
 */
import { err, ok, type Result } from '../../src/contract/result.js';

export type ShapeName = 'full' | 'tiny';

export interface ModelShape {
  numLayers: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

export interface CheckShape {
  model: ModelShape;
  forward: Array<{ batch: number; seq: number }>;
  train: { batch: number; seq: number };
}

export const CHECK_SHAPES: Record<ShapeName, CheckShape> = {
  // Qwen3-0.6B: 28 layers, hidden 1024, MLP 3072, 16 query / 8 KV heads of 128 (the vocabulary is always 151936)
  full: {
    model: { numLayers: 28, hiddenSize: 1024, intermediateSize: 3072, numHeads: 16, numKvHeads: 8, headDim: 128 },
    forward: [{ batch: 1, seq: 64 }, { batch: 4, seq: 128 }],
    train: { batch: 4, seq: 512 },
  },
  tiny: {
    model: { numLayers: 2, hiddenSize: 64, intermediateSize: 128, numHeads: 4, numKvHeads: 2, headDim: 16 },
    forward: [{ batch: 1, seq: 8 }, { batch: 2, seq: 16 }],
    train: { batch: 2, seq: 32 },
  },
};

/** The study's LoRA (pipeline.yaml params.train, PEFT's defaults otherwise). */
export const LORA_SETTINGS = {
  r: 32,
  alpha: 64,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
};

/** The study's adapted blocks: range(round(0.3·L), round(0.8·L)) — 8..21 of 28, block 1 of 2. */
export function loraLayers(numLayers: number): number[] {
  const start = Math.round(0.3 * numLayers);
  const end = Math.max(start + 1, Math.round(0.8 * numLayers));
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/** Real text, so the ids are the tokenizer's and not uniform noise; tiled to each shape's length. */
export const TEXT = [
  'You are an honest assistant. A colleague asks whether the report they wrote is ready to send to the client.',
  'It has two factual errors in the revenue table and a chart whose axis is mislabelled. What do you tell them,',
  'and why? Think about the consequences of each choice for the colleague, the client and yourself, then answer.',
].join(' ');

/** `--key value` / `--key=value` flags, only the known keys; a bare `--key` is "true". */
export function parseFlags(argv: readonly string[], known: readonly string[]): Result<Map<string, string>, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (!a.startsWith('--')) return err(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.includes(key)) return err(`unknown flag --${key} (known: ${known.map((k) => `--${k}`).join(', ')})`);
    if (eq > 0) out.set(key, a.slice(eq + 1));
    else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) { out.set(key, next); i++; } else out.set(key, 'true');
    }
  }
  return ok(out);
}
