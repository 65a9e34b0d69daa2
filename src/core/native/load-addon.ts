/**
 * Finds and loads the optional OpenBLAS addon (native/blas, built by `npm run build:native`).
 * Loading never throws: a missing build, a missing libopenblas or a stale ABI comes back as a reason
 * the caller can print, so every backend other than `native` keeps working without it.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { err, ok, type Result } from '../../contract/result.js';

/** Must equal kAbiVersion in native/blas/src/addon.cc. */
export const EXPECTED_ABI_VERSION = 2;

export interface NativeAddon {
  abiVersion: number;
  /** out[i] = op(a at aOffsets[i]) · op(b at bOffsets[i]); offsets are element indices. */
  gemm(
    a: Float32Array, b: Float32Array, out: Float32Array,
    batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, aOffsets: Float64Array, bOffsets: Float64Array,
  ): void;
  /** dst[dstOffset + Σ i·dstStrides] = src[srcOffset + Σ i·srcStrides] over shape (all in elements). */
  stridedCopy(
    src: Float32Array, srcOffset: number, srcStrides: Float64Array,
    dst: Float32Array, dstOffset: number, dstStrides: Float64Array, shape: Float64Array,
  ): void;
  fill(dst: Float32Array, value: number): void;
  /** out[o, i, :] = x[o, indices[i], :] with x viewed as [outer, dimSize, slice]. */
  gather(x: Float32Array, outer: number, dimSize: number, slice: number, indices: Int32Array, out: Float32Array): void;
  /** out (contiguous over shape) = op(a, b) with a/b read through strides (0 = broadcast). */
  binary(op: number, a: Float32Array, aStrides: Float64Array, b: Float32Array, bStrides: Float64Array, out: Float32Array, shape: Float64Array): void;
  /** Elementwise op over x (0 exp, 1 sigmoid, 2 neg, 3 square, 4 rsqrt, 5 sqrt, 6 log). */
  unary(op: number, x: Float32Array, out: Float32Array): void;
  /** op 0 sum, 1 mean, 2 max; out is contiguous over keptShape. */
  reduce(
    op: number, x: Float32Array, keptShape: Float64Array, keptStrides: Float64Array,
    reducedShape: Float64Array, reducedStrides: Float64Array, out: Float32Array,
  ): void;
  /** Softmax over contiguous rows of length n. */
  softmax(x: Float32Array, n: number, out: Float32Array): void;
  /** out[r, :] = weight ⊙ x[r, :]·rsqrt(mean(x[r, :]²) + eps) over contiguous rows of length n. Absent from older builds. */
  rmsNorm?(x: Float32Array, weight: Float32Array, n: number, eps: number, out: Float32Array): void;
  /** out = silu(gate) ⊙ up, elementwise. Absent from older builds. */
  swiglu?(gate: Float32Array, up: Float32Array, out: Float32Array): void;
  /**
   * out [B, heads, S, D] = half-split RoPE (cos/sin [1|B, S, D/2]) of rmsNorm(x [B·S, heads·D], weight [D]) moved
   * to head-major. Absent from older builds.
   */
  qkNormRope?(x: Float32Array, weight: Float32Array, cos: Float32Array, sin: Float32Array, batch: number, seq: number, eps: number, out: Float32Array): void;
  /**
   * out [B·S, H·D] = softmax(q·kᵀ·scale + mask)·v for q [B, H, S, D], k/v [B, KVH, T, D], mask [1|B, 1, S, T]
   * (grouped-query: head h reads KV head h / (H/KVH)). Absent from older builds.
   */
  attention?(q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array, batch: number, heads: number, kvHeads: number, seq: number, scale: number, out: Float32Array): void;
  attentionGrad?(q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array, dOut: Float32Array, batch: number, heads: number, kvHeads: number, seq: number, scale: number, dq: Float32Array, dk: Float32Array, dv: Float32Array): void;
  /**
   * One vocabulary chunk of the fused cross-entropy: logits [n, w] are replaced by exp(logit − running max),
   * runMax/runSum updated, rowScale = exp(old max − new max), targetLogit set where the target is in
   * [v0, v0 + w). The training kernels below are absent from builds before they were added.
   */
  ceChunk?(logits: Float32Array, n: number, w: number, v0: number, targets: Int32Array, runMax: Float32Array, runSum: Float64Array, rowScale: Float32Array, targetLogit: Float32Array): void;
  /** acc[r, :] = acc[r, :]·scale[r] + add[r, :] */
  rowScaleAdd?(acc: Float32Array, scale: Float32Array, add: Float32Array): void;
  /** dx and dw of RMSNorm over rows of length n */
  rmsNormGrad?(dy: Float32Array, x: Float32Array, weight: Float32Array, n: number, eps: number, dx: Float32Array, dw: Float32Array): void;
  /** dGate and dUp of silu(gate) ⊙ up */
  swigluGrad?(dy: Float32Array, gate: Float32Array, up: Float32Array, dGate: Float32Array, dUp: Float32Array): void;
  /** dx of y = softmax(x) over rows of length n, from y and dy */
  softmaxGrad?(y: Float32Array, dy: Float32Array, n: number, dx: Float32Array): void;
  /**
   * Top-k singular triplets of a row-major [rows, cols] float64 matrix (LAPACK dsyevr on the smaller Gram matrix):
   * u [rows, k], s [k] descending, v [cols, k], signs unnormalised. Absent from builds before it was added.
   */
  topSvd?(w: Float64Array, rows: number, cols: number, k: number, u: Float64Array, s: Float64Array, v: Float64Array): void;
  /**
   * The packed copy of a Linear weight w [n, k] (native/blas/src/packed-linear.cc) into out, whose length is
   * packedLinearLength(n, k); out [m, n] = x [m, k] · wᵀ from that copy. Absent from builds without AVX2/FMA and
   * from builds before they were added.
   */
  packLinearWeight?(w: Float32Array, n: number, k: number, out: Float32Array): void;
  packedLinearLength?(n: number, k: number): number;
  packedLinear?(x: Float32Array, packed: Float32Array, out: Float32Array, m: number, n: number, k: number): void;
  setThreads(n: number): void;
  getThreads(): number;
  blasConfig(): string;
}

export type AddonLoad = Result<{ addon: NativeAddon; path: string }, string>;

const ADDON_RELATIVE = join('native', 'blas', 'build', 'Release', 'wsflow_blas.node');

/** The repository root: the nearest ancestor holding native/blas/package.json (works from src/ and dist/src/). */
function findPackageRoot(start: string): string | undefined {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'native', 'blas', 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function addonPath(): string | undefined {
  const override = process.env['WSFLOW_NATIVE_ADDON'];
  if (override !== undefined && override !== '') return resolve(override);
  const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return root === undefined ? undefined : join(root, ADDON_RELATIVE);
}

function describeLoadError(path: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/libopenblas/.test(message)) {
    return `native addon ${path} is built but libopenblas cannot be loaded (${message}); ` +
      'install it with `apt-get install libopenblas0-pthread` or rebuild with `npm run build:native`';
  }
  return `native addon ${path} failed to load: ${message}`;
}

export function loadAddon(): AddonLoad {
  if (process.env['WSFLOW_NATIVE'] === '0') {
    return err('native kernels disabled by WSFLOW_NATIVE=0');
  }
  const path = addonPath();
  if (path === undefined) return err('native/blas not found above ' + fileURLToPath(import.meta.url));
  if (!existsSync(path)) {
    return err(
      `native addon not built (${path} missing): run \`bash scripts/setup-native.sh\` ` +
        '(needs libopenblas-dev, pkg-config and a C++ compiler)',
    );
  }
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(path);
  } catch (e) {
    return err(describeLoadError(path, e));
  }
  const addon = loaded as Partial<NativeAddon>;
  if (addon.abiVersion !== EXPECTED_ABI_VERSION) {
    return err(
      `native addon ${path} has ABI version ${String(addon.abiVersion)}, this code needs ` +
        `${EXPECTED_ABI_VERSION}: rebuild it with \`npm run build:native\``,
    );
  }
  return ok({ addon: addon as NativeAddon, path });
}
