/**
 * Reading tensors back to the host, synchronously or not. The webgpu backend cannot read synchronously in Node
 * (tfjs-backend-webgpu's readSync needs OffscreenCanvas), so code that needs host values in the middle of a
 * computation (adapter initialisation: PiSSA's SVD, DoRA's and DeLoRA's norms) is written once as a generator
 * that yields each tensor it must read and receives a copy of its values; `runSync` answers with dataSync (the
 * existing synchronous APIs, cpu/wasm/native/tensorflow), `runAsync` with `await data()` (every backend).
 */
import * as tf from '@tensorflow/tfjs-core';

/** A computation that reads tensors on the host: yields a tensor, receives its values (a copy it owns). */
export type HostReading<T> = Generator<tf.Tensor, T, Float32Array>;

/** Yield `t` for reading and dispose it afterwards; `yield* readAndDispose(t)` inside a HostReading. */
export function* readAndDispose(t: tf.Tensor): HostReading<Float32Array> {
  try {
    return yield t;
  } finally {
    t.dispose();
  }
}

function drive<T>(g: HostReading<T>, read: (t: tf.Tensor) => Float32Array): T {
  let r = g.next();
  while (r.done !== true) {
    let values: Float32Array;
    try {
      values = read(r.value);
    } catch (e) {
      // through the generator, so that its finally blocks dispose what it holds
      r = g.throw(e);
      continue;
    }
    r = g.next(values);
  }
  return r.value;
}

export function runSync<T>(g: HostReading<T>): T {
  return drive(g, (t) => Float32Array.from(t.dataSync() as Float32Array));
}

export async function runAsync<T>(g: HostReading<T>): Promise<T> {
  let r = g.next();
  while (r.done !== true) {
    let values: Float32Array;
    try {
      values = Float32Array.from((await r.value.data()) as Float32Array);
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(values);
  }
  return r.value;
}

/** Reads one tensor's values on the host; `syncRead` is dataSync (a copy). */
export type HostRead = (t: tf.Tensor) => Float32Array;

export const syncRead: HostRead = (t) => Float32Array.from(t.dataSync() as Float32Array);

/**
 * Calls `f` twice: once to learn which tensors it reads, then, after reading them all asynchronously, with their
 * values. `f` must read the same tensors both times and do nothing else that matters.
 */
export async function withAsyncReads<T>(f: (read: HostRead) => T): Promise<T> {
  const wanted: tf.Tensor[] = [];
  f((t) => {
    wanted.push(t);
    return new Float32Array(t.size);
  });
  const values = new Map<tf.Tensor, Float32Array>();
  for (const t of wanted) values.set(t, Float32Array.from((await t.data()) as Float32Array));
  return f((t) => {
    const v = values.get(t);
    if (v === undefined) throw new Error('internal: withAsyncReads saw a tensor on the second pass that the first did not read');
    return v;
  });
}

/** Whether the active backend can read synchronously (all but webgpu): where a host-side path is kept for speed or bits. */
export function backendReadsSync(): boolean {
  return tf.getBackend() !== 'webgpu';
}
