/** Reading a JSON file a stage wrote (or a model directory holds). Cheap: no TensorFlow.js. */
import { existsSync, readFileSync } from 'node:fs';

/**
 * Parse `file`. A missing file or invalid JSON is an error naming the file; `missingHint` says what should have
 * written it (e.g. 'the "target" input must be a kl-target stage').
 */
export function readJsonFile<T = unknown>(file: string, missingHint?: string): T {
  if (!existsSync(file)) throw new Error(`${file} is missing${missingHint === undefined ? '' : `; ${missingHint}`}`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}
