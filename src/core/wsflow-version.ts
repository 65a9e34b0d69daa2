/** The version of the wsflow installation running this code (its own package.json, not the project's). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Walks up from this module (src/ or dist/src/) to wsflow's package.json; null when it cannot be read. */
export function wsflowVersion(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'wsflow' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        return null;
      }
    }
    dir = dirname(dir);
  }
  return null;
}
