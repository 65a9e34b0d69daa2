/**
 * A checkpoint's tensors by name, across one model.safetensors or the shards listed in
 * model.safetensors.index.json. Headers are parsed up front (cheap); tensor data is read on demand, one tensor
 * at a time, so loading never holds a second copy of the weights.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SafetensorsError, SafetensorsFile, type TensorInfo } from './safetensors.js';

export interface CheckpointTensorInfo extends TensorInfo {
  /** the file holding it */
  file: string;
}

export class Checkpoint {
  readonly #files: SafetensorsFile[];
  readonly #where = new Map<string, SafetensorsFile>();

  private constructor(files: SafetensorsFile[], where: Map<string, SafetensorsFile>) {
    this.#files = files;
    this.#where = where;
  }

  /** Open DIR's weights: model.safetensors.index.json if present, else model.safetensors. */
  static openDir(dir: string, weightFiles: readonly string[], indexFile: string | null): Checkpoint {
    const opened: SafetensorsFile[] = [];
    try {
      for (const f of weightFiles) opened.push(SafetensorsFile.open(f));
      const where = new Map<string, SafetensorsFile>();
      if (indexFile === null) {
        for (const f of opened) for (const name of f.tensors.keys()) where.set(name, f);
      } else {
        const byBase = new Map(opened.map((f) => [basename(f.path), f]));
        const map = (JSON.parse(readFileSync(indexFile, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
        for (const [name, shard] of Object.entries(map)) {
          const f = byBase.get(shard);
          if (f === undefined) throw new SafetensorsError(indexFile, name, `shard ${shard} is not open (missing from ${dir}?)`);
          if (!f.has(name)) throw new SafetensorsError(indexFile, name, `the index places this tensor in ${join(dir, shard)}, which does not contain it`);
          where.set(name, f);
        }
        // tensors present in shards but absent from the index are ignored, as transformers does
      }
      return new Checkpoint(opened, where);
    } catch (e) {
      for (const f of opened) f.close();
      throw e;
    }
  }

  names(): string[] {
    return [...this.#where.keys()];
  }

  has(name: string): boolean {
    return this.#where.has(name);
  }

  info(name: string): CheckpointTensorInfo | undefined {
    const f = this.#where.get(name);
    if (f === undefined) return undefined;
    return { ...f.info(name), file: f.path };
  }

  /** Values widened to float32 (BF16 and F16 exactly). */
  readFloat32(name: string): Float32Array {
    const f = this.#where.get(name);
    if (f === undefined) throw new Error(`internal: tensor "${name}" is not in this checkpoint`);
    return f.readFloat32(name);
  }

  /** dtypes present, with tensor counts */
  dtypes(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [name, f] of this.#where) {
      const d = f.info(name).dtype;
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    return counts;
  }

  close(): void {
    for (const f of this.#files) f.close();
  }
}
