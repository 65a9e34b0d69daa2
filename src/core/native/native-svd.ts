/**
 * PiSSA's exact top-k SVD through LAPACK in the native addon, when it is built (and has `topSvd`: builds from
 * before it fall back too). Loading the addon does not need the `native` tfjs backend to be selected, so a run on
 * wasm with the addon built still gets the fast SVD; WSFLOW_NATIVE=0 turns it off like everything native.
 */
import { loadAddon, type NativeAddon } from './load-addon.js';

export interface TopSvdResult {
  /** [rows, k] row-major */
  u: Float64Array;
  /** k values, descending */
  s: number[];
  /** [cols, k] row-major */
  v: Float64Array;
}

let cached: { addon: NativeAddon & Required<Pick<NativeAddon, 'topSvd'>> } | null | undefined;

function svdAddon(): (NativeAddon & Required<Pick<NativeAddon, 'topSvd'>>) | undefined {
  if (cached === undefined) {
    const load = loadAddon();
    cached = load.ok && typeof load.value.addon.topSvd === 'function'
      ? { addon: load.value.addon as NativeAddon & Required<Pick<NativeAddon, 'topSvd'>> }
      : null;
  }
  return cached?.addon;
}

/** Whether nativeTopSvd will run LAPACK (rather than return undefined). */
export function nativeSvdAvailable(): boolean {
  return svdAddon() !== undefined;
}

/** Top-k SVD of a [rows, cols] float64 matrix via the addon, or undefined when the addon cannot do it. */
export function nativeTopSvd(w: Float64Array, rows: number, cols: number, k: number): TopSvdResult | undefined {
  const addon = svdAddon();
  if (addon === undefined) return undefined;
  const u = new Float64Array(rows * k);
  const s = new Float64Array(k);
  const v = new Float64Array(cols * k);
  addon.topSvd(w, rows, cols, k, u, s, v);
  return { u, s: Array.from(s), v };
}
