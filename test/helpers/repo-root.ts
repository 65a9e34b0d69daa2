/** The repository root, for tests that read its files (this file runs from dist/test/helpers). No trailing slash. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
