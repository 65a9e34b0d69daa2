/**
 * Times every kernel of a tfjs backend around its kernel function (its output's allocation included), for
 * model-forward's --breakdown and forward-kernels. Not tf.profile: its own overhead put a projection inside the model
 * at 1.2–1.45x its standalone time, where timing the kernel function found none (bench/core/TORCH-THREADS.md, "A
 * repeat on 2026-12-08").
 */
import { tf } from './bench-util.js';

export interface KernelCall {
  name: string;
  inputShapes: number[][];
  ms: number;
}

export interface KernelTimer {
  start(): void;
  /** the calls since start(), in order; timing stops */
  stop(): KernelCall[];
}

/** Wraps the backend's registered kernel functions (the engine looks a kernel up on every call). */
export function installKernelTimer(backend: string): KernelTimer {
  let calls: KernelCall[] | null = null;
  for (const config of tf.getKernelsForBackend(backend)) {
    const run = config.kernelFunc;
    (config as { kernelFunc: tf.KernelFunc }).kernelFunc = (params) => {
      if (calls === null) return run(params);
      const start = performance.now();
      try {
        return run(params);
      } finally {
        const inputShapes = Object.values(params.inputs).map((t) => (t ? [...t.shape] : []));
        calls?.push({ name: config.kernelName, inputShapes, ms: performance.now() - start });
      }
    };
  }
  return {
    start: () => {
      calls = [];
    },
    stop: () => {
      const done = calls ?? [];
      calls = null;
      return done;
    },
  };
}
