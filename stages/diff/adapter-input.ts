/** Finding the PEFT adapter directory in a train stage's output. Cheap (no TensorFlow.js). */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const ADAPTER_CONFIG = 'adapter_config.json';

/**
 * The directory holding adapter_config.json: the output itself, or the one subdirectory (at any depth up to 3)
 * that holds it. Several candidates are an error: the diff could not know which adapter was meant.
 */
export function adapterDirOf(dir: string, what: string): string {
  if (existsSync(join(dir, ADAPTER_CONFIG))) return dir;
  const found: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 3) return;
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!e.isDirectory()) continue;
      const sub = join(d, e.name);
      if (existsSync(join(sub, ADAPTER_CONFIG))) found.push(sub);
      else walk(sub, depth + 1);
    }
  };
  if (existsSync(dir)) walk(dir, 0);
  if (found.length === 1) return found[0] as string;
  if (found.length === 0) throw new Error(`${what}: ${dir} holds no PEFT adapter (${ADAPTER_CONFIG}); the input must be a train stage`);
  throw new Error(`${what}: ${dir} holds ${found.length} adapters (${found.join(', ')}); give the diff one`);
}
