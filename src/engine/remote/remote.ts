/**
 * A remote: content-addressed objects (the local cache's file and manifest objects, by the same sha256 names) in a
 * directory or an S3 bucket. A remote only stores bytes under names; checking that bytes match their name is the
 * transfer's job (src/engine/remote/transfer.ts), on the way up and on the way down.
 */
import type { RemoteSpec } from './remote-config.js';

export interface Remote {
  /** for messages: `directory /mnt/shared/wsflow`, `s3://bucket/prefix` */
  readonly description: string;
  /** the object is on the remote under its final name with this many bytes */
  has(hash: string, size: number): Promise<boolean>;
  /**
   * Uploads a file whose bytes the caller has verified hash to `hash`. Never visible under the final name until
   * complete; an upload that already exists is a no-op, so two pushers of the same object cannot conflict.
   */
  put(hash: string, file: string, size: number): Promise<void>;
  /** Downloads the object's bytes into `dest` (a new file); false when the remote does not have it. */
  get(hash: string, dest: string): Promise<boolean>;
  close(): void;
}

/** The remote for a spec; the S3 client is imported only when an s3:// remote is used. */
export async function openRemote(spec: RemoteSpec): Promise<Remote> {
  if (spec.type === 'dir') {
    const { DirRemote } = await import('./dir-remote.js');
    return new DirRemote(spec.path);
  }
  const { S3Remote } = await import('./s3-remote.js');
  return new S3Remote(spec);
}

/** objects/ab/cdef…: the same fan-out as cache/objects */
export function objectKey(hash: string): string {
  return `objects/${hash.slice(0, 2)}/${hash.slice(2)}`;
}
