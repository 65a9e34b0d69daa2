/**
 * sha256 helpers and the branded hash strings used across the engine.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** hex sha256 of a file's bytes */
export type FileHash = string & { readonly __brand: 'FileHash' };
/** hex sha256 of a tree manifest (an output or a directory) */
export type TreeHash = string & { readonly __brand: 'TreeHash' };
/** hex sha256 of a stage's canonical key material */
export type StageKey = string & { readonly __brand: 'StageKey' };

/** One-shot `crypto.hash` (Node ≥ 20.12) is ~3x cheaper than createHash for the many small key strings. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

export function sha256Hex(data: string | Uint8Array): string {
  return oneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

/** Streams a file through sha256; large reads keep 1 GiB files at disk speed without holding them in memory. */
export function hashFileStream(path: string): Promise<{ hash: FileHash; size: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let size = 0;
    const stream = createReadStream(path, { highWaterMark: 4 * 1024 * 1024 });
    stream.on('data', (chunk) => {
      const buf = chunk as Buffer;
      size += buf.length;
      h.update(buf);
    });
    stream.on('error', reject);
    stream.on('end', () => resolve({ hash: h.digest('hex') as FileHash, size }));
  });
}

/** Short form for humans: the first 12 hex digits. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}
