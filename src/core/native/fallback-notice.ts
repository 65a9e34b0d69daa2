/**
 * The one line a user sees when auto-selection settles on wasm (or cpu) because the `native` addon could not be
 * used: what it costs and the command that fixes it. Said once per process, whatever the number of backend
 * selections; silent when the user turned native off on purpose (WSFLOW_NATIVE=0).
 */

// From the README's benchmark tables (Qwen3-0.6B shape, same machine, same run): forward 1×64 native 1.058 s vs
// wasm 4.021 s, 4×128 7.798 s vs 36.711 s; LoRA step 4×512 native 87.2 s vs wasm 1003 s.
const COST = 'wasm is ~4-5x slower than native for the forward pass and ~11x slower per training step';
const HOW = 'get native with `npm run build:native` (needs libopenblas-dev, pkg-config, g++)';

let said = false;

/** The notice for falling back to `chosen` after native failed with `reason`, or undefined when none is due. */
export function nativeFallbackNotice(reason: string, chosen: string): string | undefined {
  if (/disabled by WSFLOW_NATIVE=0/.test(reason)) return undefined;
  const cause = /not built/.test(reason) ? 'the OpenBLAS addon is not built' : reason;
  return `wsflow: using ${chosen}, not native (${cause}): ${COST}; ${HOW}`;
}

/** Writes the notice to stderr the first time it is due in this process. */
export function reportNativeFallback(reason: string, chosen: string): void {
  if (said) return;
  const line = nativeFallbackNotice(reason, chosen);
  if (line === undefined) return;
  said = true;
  process.stderr.write(line + '\n');
}
