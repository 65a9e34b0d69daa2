/**
 * Which global params a profile and `-S` overrides changed: the leaves (and whole lists) whose value differs from
 * what pipeline.yaml's `params:` declares. The report's header lists them, so two reports of two runs say how the
 * runs differed.
 */
import type { ParamChange } from '../contract/stage-kind.js';
import type { PlainValue } from './source-tree.js';

function isRecord(v: unknown): v is Record<string, PlainValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Changes from `base` to `effective`, depth first in `effective`'s key order; lists compare as whole values. */
export function paramChanges(base: PlainValue, effective: PlainValue, path = ''): ParamChange[] {
  if (isRecord(base) && isRecord(effective)) {
    const out: ParamChange[] = [];
    for (const [key, value] of Object.entries(effective)) {
      const sub = path === '' ? key : `${path}.${key}`;
      out.push(...paramChanges(key in base ? (base[key] as PlainValue) : null, value, sub));
    }
    return out;
  }
  return JSON.stringify(base) === JSON.stringify(effective) ? [] : [{ path, value: effective, default: base }];
}
