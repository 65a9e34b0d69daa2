/**
 * The registry of built-in stage kinds (`uses: <name>` in pipeline.yaml).
 * Each kind module must be cheap to import: its implementation is behind `load()`.
 */
import type { StageKind } from '../src/engine/stage-kind.js';
import { reportKind } from './report/index.js';

const kinds: StageKind[] = [reportKind];

export const builtinKinds: ReadonlyMap<string, StageKind> = new Map(kinds.map((k) => [k.name, k]));
