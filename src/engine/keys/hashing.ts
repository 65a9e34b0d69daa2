/**
 * sha256 helpers and the branded hash strings used across the engine.
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

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

/** Short form for humans: the first 12 hex digits. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}
