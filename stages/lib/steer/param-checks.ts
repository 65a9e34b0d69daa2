/** Planning-time checks of params that a JSON schema states badly: prompt names in a prompt set, α = 0 in a sweep. Cheap (no TensorFlow.js). */
import type { ExternalInputsResult } from '../../../src/contract/stage-kind.js';
import { DEFAULT_PROMPT_SET, PROMPT_SETS, type PromptSetName } from '../prompts.js';
import { err, ok } from '../../../src/contract/result.js';

/** Prompt names must exist in the chosen set: checked at planning time, so a typo is not a failure mid-run. */
export function checkPromptNames(setName: unknown, names: unknown, param: string): ExternalInputsResult {
  const set = PROMPT_SETS[(setName ?? DEFAULT_PROMPT_SET) as PromptSetName] as Readonly<Record<string, string>> | undefined;
  if (set === undefined) return err({ param: 'prompt_set', message: `unknown prompt set ${JSON.stringify(setName)} (${Object.keys(PROMPT_SETS).join(', ')})` });
  const missing = (Array.isArray(names) ? (names as string[]) : [names as string]).filter((n) => !(n in set));
  if (missing.length > 0) {
    return err({ param, message: `prompt${missing.length > 1 ? 's' : ''} ${missing.map((n) => JSON.stringify(n)).join(', ')} not in prompt set ${String(setName ?? DEFAULT_PROMPT_SET)} (it has ${Object.keys(set).join(', ')})` });
  }
  return ok([]);
}

/** A coefficient sweep must include 0, the reference every SI, delta and shift is measured against. */
export function checkCoeffsIncludeZero(coeffs: unknown, why: string): ExternalInputsResult {
  if (Array.isArray(coeffs) && !coeffs.includes(0)) return err({ param: 'coeffs', message: `coeffs ${JSON.stringify(coeffs)} must include 0: ${why}` });
  return ok([]);
}
