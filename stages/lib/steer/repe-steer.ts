/**
 * Activation steering as the reference applies RepE (study-ref §7.2): after decoder block L, for every L in the
 * layer range, add coeff·direction[L] to the residual stream at every position. The model's forward options
 * carry the addition for one call only, so nothing of it remains after the forward pass.
 */
import type { ResidualAdd } from '../../../src/core/qwen3/model.js';

export interface RepeDirections {
  /** one unit vector per decoder layer (all layers are fit; only `layers` are applied) */
  directions: readonly Float32Array[];
  /** the layers the directions are added after */
  layers: readonly number[];
}

/** The residual additions for coefficient `alpha` (none at α = 0). */
export function repeResidualAdds(r: RepeDirections, alpha: number): ResidualAdd[] {
  if (!Number.isFinite(alpha)) throw new Error(`RepE: α must be finite, got ${alpha}`);
  if (alpha === 0) return [];
  return r.layers.map((layer) => {
    const v = r.directions[layer];
    if (v === undefined) throw new Error(`RepE: no direction for layer ${layer} (directions cover layers 0..${r.directions.length - 1})`);
    return { layer, vector: v, scale: alpha };
  });
}
