/**
 * safetensors reader and writer.
 *
 * Format (huggingface/safetensors): u64 LE header length N, N bytes of JSON header, then one data buffer.
 * Header entries: name -> {dtype, shape, data_offsets:[begin,end)} relative to the data buffer; optional
 * "__metadata__" string map. We validate like the reference reader (tensor.rs): contiguous offsets starting at
 * 0, byte size = numel * dtype size, buffer end == file length. Reading is lazy: the header is parsed on open and
 * each tensor is read from disk only when asked for, so a model is never held twice in memory.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync, renameSync, unlinkSync, fsyncSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, F8_E4M3FNUZ: 1, F8_E5M2FNUZ: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8, C64: 8,
};
/** Dtypes we can widen to float32 (or read as int32). */
const READABLE = new Set(['F32', 'F16', 'BF16', 'F64', 'I32', 'I64', 'I16', 'I8', 'U8', 'BOOL']);

const MAX_HEADER = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** byte range in the data buffer, end exclusive */
  begin: number;
  end: number;
}

export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    readonly tensor: string | undefined,
    message: string,
  ) {
    super(`${file}${tensor !== undefined ? `: tensor "${tensor}"` : ''}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** An open safetensors file. Close it when done (or use `withSafetensors`). */
export class SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly #fd: number;
  readonly #dataStart: number;
  #closed = false;

  private constructor(path: string, fd: number, dataStart: number, tensors: Map<string, TensorInfo>, metadata: Record<string, string>) {
    this.path = path;
    this.#fd = fd;
    this.#dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new SafetensorsError(path, undefined, `cannot open: ${(err as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      if (size < 8) throw new SafetensorsError(path, undefined, `file is ${size} bytes, too short for the 8-byte header length (truncated?)`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const n = lenBuf.readBigUInt64LE(0);
      if (n > BigInt(MAX_HEADER)) throw new SafetensorsError(path, undefined, `header length ${n} exceeds the ${MAX_HEADER}-byte limit (not a safetensors file?)`);
      const headerLen = Number(n);
      if (8 + headerLen > size) throw new SafetensorsError(path, undefined, `header length ${headerLen} runs past the end of the ${size}-byte file (truncated?)`);
      const headerBuf = Buffer.alloc(headerLen);
      readSync(fd, headerBuf, 0, headerLen, 8);
      let header: unknown;
      try {
        header = JSON.parse(headerBuf.toString('utf8'));
      } catch (err) {
        throw new SafetensorsError(path, undefined, `header is not valid JSON: ${(err as Error).message}`);
      }
      if (header === null || typeof header !== 'object' || Array.isArray(header)) {
        throw new SafetensorsError(path, undefined, 'header is not a JSON object');
      }
      const tensors = new Map<string, TensorInfo>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
        if (name === '__metadata__') {
          if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(path, undefined, '__metadata__ must be an object of strings');
          for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
            if (typeof v !== 'string') throw new SafetensorsError(path, undefined, `__metadata__.${k} must be a string`);
          }
          metadata = raw as Record<string, string>;
          continue;
        }
        tensors.set(name, parseEntry(path, name, raw));
      }
      const dataLen = size - 8 - headerLen;
      const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
      let expected = 0;
      for (const t of sorted) {
        if (t.begin !== expected) {
          throw new SafetensorsError(path, t.name, `data_offsets [${t.begin}, ${t.end}] are not contiguous (expected the tensor to start at ${expected})`);
        }
        if (t.end > dataLen) {
          throw new SafetensorsError(path, t.name, `data_offsets [${t.begin}, ${t.end}] lie outside the ${dataLen}-byte data buffer (truncated file?)`);
        }
        expected = t.end;
      }
      if (expected !== dataLen) {
        throw new SafetensorsError(path, undefined, `data buffer is ${dataLen} bytes but tensors cover ${expected} (trailing bytes or truncation)`);
      }
      return new SafetensorsFile(path, fd, 8 + headerLen, tensors, metadata);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (t === undefined) throw new SafetensorsError(this.path, name, 'no such tensor in this file');
    return t;
  }

  /** Raw little-endian bytes of one tensor. */
  readBytes(name: string): Buffer {
    if (this.#closed) throw new SafetensorsError(this.path, name, 'file already closed');
    const t = this.info(name);
    const len = t.end - t.begin;
    const buf = Buffer.allocUnsafe(len);
    let off = 0;
    while (off < len) {
      const got = readSync(this.#fd, buf, off, len - off, this.#dataStart + t.begin + off);
      if (got === 0) throw new SafetensorsError(this.path, name, 'unexpected end of file while reading tensor data');
      off += got;
    }
    return buf;
  }

  /** Tensor values widened to float32 (F32, F16, BF16, F64 and integer dtypes). */
  readFloat32(name: string): Float32Array {
    const t = this.info(name);
    const bytes = this.readBytes(name);
    return toFloat32(bytes, t.dtype, this.path, name);
  }

  close(): void {
    if (!this.#closed) {
      this.#closed = true;
      closeSync(this.#fd);
    }
  }
}

function parseEntry(file: string, name: string, raw: unknown): TensorInfo {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SafetensorsError(file, name, 'header entry is not an object');
  const e = raw as Record<string, unknown>;
  const dtype = e['dtype'];
  const shape = e['shape'];
  const offsets = e['data_offsets'];
  if (typeof dtype !== 'string') throw new SafetensorsError(file, name, 'missing or non-string "dtype"');
  const bytes = DTYPE_BYTES[dtype];
  if (bytes === undefined) throw new SafetensorsError(file, name, `unknown dtype "${dtype}"`);
  if (!READABLE.has(dtype)) throw new SafetensorsError(file, name, `dtype ${dtype} is not supported (supported: ${[...READABLE].join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(file, name, `"shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(file, name, `"data_offsets" must be [begin, end], got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new SafetensorsError(file, name, `data_offsets [${begin}, ${end}] end before they begin`);
  const want = numel(shape as number[]) * bytes;
  if (end - begin !== want) {
    throw new SafetensorsError(file, name, `shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Exact BF16 -> F32: the 16 bits are the high half of the float32. */
export function bf16ToFloat32(src: Uint16Array): Float32Array {
  const out = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = (src[i] as number) << 16;
  return new Float32Array(out.buffer);
}

/** IEEE half -> float32, subnormals, infinities and NaN included. */
export function f16ToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i] as number;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = frac * 2 ** -24;
    else if (exp === 31) v = frac === 0 ? Infinity : NaN;
    else v = (1 + frac / 1024) * 2 ** (exp - 15);
    out[i] = sign * v;
  }
  return out;
}

/** Round float32 to bf16 (round-to-nearest-even, as torch's .to(bfloat16)), returning the bf16 bit patterns. */
export function float32ToBf16(src: Float32Array): Uint16Array {
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = u[i] as number;
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x007fffff) !== 0) {
      out[i] = 0x7fc0; // every NaN becomes the canonical quiet NaN, as c10::detail::round_to_nearest_even does
      continue;
    }
    const lsb = (x >>> 16) & 1;
    out[i] = ((x + 0x7fff + lsb) >>> 16) & 0xffff;
  }
  return out;
}

function toFloat32(bytes: Buffer, dtype: string, file: string, name: string): Float32Array {
  // Copy into an aligned buffer: third-party writers do not always 8-align the data section.
  const aligned = new ArrayBuffer(bytes.length);
  new Uint8Array(aligned).set(bytes);
  switch (dtype) {
    case 'F32':
      return new Float32Array(aligned);
    case 'BF16':
      return bf16ToFloat32(new Uint16Array(aligned));
    case 'F16':
      return f16ToFloat32(new Uint16Array(aligned));
    case 'F64':
      return Float32Array.from(new Float64Array(aligned));
    case 'I32':
      return Float32Array.from(new Int32Array(aligned));
    case 'I64':
      return Float32Array.from(new BigInt64Array(aligned), (v) => Number(v));
    case 'I16':
      return Float32Array.from(new Int16Array(aligned));
    case 'I8':
      return Float32Array.from(new Int8Array(aligned));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(new Uint8Array(aligned));
    default:
      throw new SafetensorsError(file, name, `cannot convert dtype ${dtype} to float32`);
  }
}

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  /** Float32 data; written as F32 unless dtype says otherwise. */
  data: Float32Array;
  dtype?: 'F32' | 'BF16';
}

/**
 * Write a safetensors file atomically (temp file in the same directory, fsync, rename).
 * Layout follows the reference writer: tensors sorted by name (all our dtypes share one alignment class
 * per file in practice), header padded with spaces to a multiple of 8.
 */
export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): void {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new SafetensorsError(path, t.name, 'duplicate tensor name');
    seen.add(t.name);
    if (numel(t.shape) !== t.data.length) {
      throw new SafetensorsError(path, t.name, `shape [${t.shape.join(', ')}] has ${numel(t.shape)} elements but data has ${t.data.length}`);
    }
  }
  // Reference writer: sort by dtype alignment (descending) then name.
  const ordered = [...tensors].sort((a, b) => {
    const ab = (a.dtype ?? 'F32') === 'F32' ? 4 : 2;
    const bb = (b.dtype ?? 'F32') === 'F32' ? 4 : 2;
    return bb - ab || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header['__metadata__'] = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const t of ordered) {
    const dtype = t.dtype ?? 'F32';
    let bytes: Uint8Array;
    if (dtype === 'F32') bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    else {
      const b = float32ToBf16(t.data);
      bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    header[t.name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    chunks.push(bytes);
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, headerBytes);
    for (const c of chunks) {
      let off = 0;
      while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function withSafetensors<T>(path: string, fn: (f: SafetensorsFile) => T): T {
  const f = SafetensorsFile.open(path);
  try {
    return fn(f);
  } finally {
    f.close();
  }
}
