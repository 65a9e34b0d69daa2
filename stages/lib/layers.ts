/**
 * The adapted layer slice of the reference study (study-ref §3.2): `range(round(lo·L), round(hi·L))` with Python's
 * banker's rounding, so 0.3/0.8 of Qwen3-0.6B's 28 layers is 8..21 and a 2-layer tiny model gets layer 1 only.
 */
import { pyRound } from './py-compat.js';

export const LAYER_FRAC_LO = 0.3;
export const LAYER_FRAC_HI = 0.8;

/** The layer indices [round(lo·L), round(hi·L)). Throws when the slice is empty, as the reference does. */
export function layerSlice(numLayers: number, fracLo: number = LAYER_FRAC_LO, fracHi: number = LAYER_FRAC_HI): number[] {
  if (!(Number.isInteger(numLayers) && numLayers >= 1)) throw new Error(`layer slice: num_hidden_layers must be a positive integer, got ${numLayers}`);
  if (!(fracLo >= 0 && fracLo <= 1 && fracHi >= 0 && fracHi <= 1)) throw new Error(`layer slice: fractions must be in [0, 1], got lo ${fracLo}, hi ${fracHi}`);
  const start = pyRound(fracLo * numLayers);
  const end = pyRound(fracHi * numLayers);
  if (end <= start) {
    throw new Error(`layer slice is empty: range(round(${fracLo}·${numLayers}), round(${fracHi}·${numLayers})) = range(${start}, ${end}); widen layer_frac_lo/layer_frac_hi`);
  }
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/** RepE's hooked layers in the reference: a fixed `range(8, 22)` for Qwen3-0.6B; equal to layerSlice(28). */
export const REPE_LAYERS_QWEN3_0_6B: readonly number[] = Array.from({ length: 14 }, (_, i) => 8 + i);
