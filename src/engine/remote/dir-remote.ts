/**
 * A directory remote (a shared filesystem, a mounted bucket): objects/ab/cdef… as in cache/objects. An upload is
 * copied to a private temporary name in the object's own directory and renamed into place, so an interrupted push
 * leaves at most a `*.tmp-<pid>-<hex>` file that never counts, and two pushers of one object each rename a
 * complete copy of the same bytes over the other.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, constants as fsConstants, copyFileSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crashPoint } from '../util/crash-points.js';
import { objectKey, type Remote } from './remote.js';

export class DirRemote implements Remote {
  readonly description: string;
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
    this.description = `directory ${root}`;
  }

  #path(hash: string): string {
    return join(this.#root, objectKey(hash));
  }

  has(hash: string, size: number): Promise<boolean> {
    try {
      const st = statSync(this.#path(hash));
      return Promise.resolve(st.isFile() && st.size === size);
    } catch {
      return Promise.resolve(false);
    }
  }

  put(hash: string, file: string): Promise<void> {
    const dest = this.#path(hash);
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      copyFileSync(file, tmp, fsConstants.COPYFILE_FICLONE);
      chmodSync(tmp, 0o444);
      crashPoint('remote-object-staged');
      renameSync(tmp, dest);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return Promise.resolve();
  }

  get(hash: string, dest: string): Promise<boolean> {
    try {
      copyFileSync(this.#path(hash), dest, fsConstants.COPYFILE_EXCL);
      return Promise.resolve(true);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve(false);
      throw e;
    }
  }

  close(): void {}
}
