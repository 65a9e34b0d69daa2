/**
 * A safetensors writer that takes tensors one at a time, so a model-sized file is written without holding
 * every tensor in memory: the header is computed from the declared names, dtypes and shapes first, then each
 * tensor's bytes are produced and appended in header order. Same layout rules as the reference writer (header
 * padded with spaces to a multiple of 8, offsets contiguous from 0).
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { float32ToBf16 } from '../safetensors.js';

export type StreamDtype = 'F32' | 'BF16' | 'F16';

const BYTES: Record<StreamDtype, number> = { F32: 4, BF16: 2, F16: 2 };

export interface StreamedTensor {
  name: string;
  dtype: StreamDtype;
  shape: readonly number[];
  /** the tensor's little-endian bytes in `dtype` (called once, in header order) */
  bytes: () => Uint8Array;
}

/** float32 values as bytes of `dtype` (BF16 rounds to nearest even, as torch's .to(bfloat16)). */
export function encodeFloat32(data: Float32Array, dtype: 'F32' | 'BF16'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const b = float32ToBf16(data);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The header bytes (8-byte length + padded JSON) for `tensors` in order; duplicate names throw. */
function headerOf(path: string, tensors: readonly { name: string; dtype: StreamDtype; shape: readonly number[] }[], metadata: Record<string, string>): { len: Buffer; header: Buffer } {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new Error(`${path}: duplicate tensor name "${t.name}"`);
    seen.add(t.name);
    const size = byteSize(t);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  return { len, header: headerBytes };
}

function byteSize(t: { dtype: StreamDtype; shape: readonly number[] }): number {
  return t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
}

function writeTensorBytes(fd: number, path: string, t: { name: string; dtype: StreamDtype; shape: readonly number[] }, bytes: Uint8Array): void {
  const want = byteSize(t);
  if (bytes.length !== want) throw new Error(`${path}: tensor "${t.name}" produced ${bytes.length} bytes, expected ${want}`);
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Write `path` (which the caller makes atomic, e.g. inside a temp directory renamed at the end). */
export function writeSafetensorsStream(path: string, tensors: readonly StreamedTensor[], metadata: Record<string, string> = { format: 'pt' }): void {
  const { len, header } = headerOf(path, tensors, metadata);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, header);
    for (const t of tensors) writeTensorBytes(fd, path, t, t.bytes());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface AsyncStreamedTensor extends Omit<StreamedTensor, 'bytes'> {
  /** the tensor's bytes, possibly read back from the device asynchronously (called once, in header order) */
  bytes: () => Promise<Uint8Array>;
}

/** writeSafetensorsStream for producers that read asynchronously (webgpu cannot read synchronously in Node). */
export async function writeSafetensorsStreamAsync(path: string, tensors: readonly AsyncStreamedTensor[], metadata: Record<string, string> = { format: 'pt' }): Promise<void> {
  const { len, header } = headerOf(path, tensors, metadata);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, header);
    for (const t of tensors) writeTensorBytes(fd, path, t, await t.bytes());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
