/**
 * `resources.mem` and `resources.time` as numbers. The schema checks their spelling; these check what the spelling
 * cannot: a limit of zero (`0m`, `0s`, `0M`) and values no scheduler can take. Both reach sbatch as they are.
 */
import type { PlainValue } from './source-tree.js';
import type { Result } from '../contract/result.js';

const MEM_UNITS_MB: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 };
const TIME_UNITS_MIN: Record<string, number> = { d: 24 * 60, h: 60, m: 1, s: 1 / 60 };

/** Schedulers keep time limits as 32-bit minute counts; anything longer is a typo, not a request. */
export const MAX_TIME_MINUTES = 2 ** 31 - 1;
/** 2^40 MB (a zettabyte) is far past any node and still an exact integer in every unit sbatch accepts. */
export const MAX_MEM_MB = 2 ** 40;

/** Megabytes, rounded up; `512M`, `16G`, `1.5T`, `64K`, or MB as an integer. */
export function parseMemoryMB(value: PlainValue): Result<number, string> {
  let mb: number;
  if (typeof value === 'number') mb = value;
  else if (typeof value === 'string') {
    const match = /^([0-9]+(?:\.[0-9]+)?)([KMGT])$/.exec(value);
    if (!match) return { ok: false, error: `"${value}" is not a size: write 512M, 16G, or MB as a number` };
    mb = Math.ceil(Number(match[1]) * (MEM_UNITS_MB[match[2] ?? 'M'] ?? 1));
  } else return { ok: false, error: `must be a size such as 16G or a number of MB` };
  if (!Number.isFinite(mb) || mb <= 0) return { ok: false, error: `${JSON.stringify(value)} asks for no memory; give at least 1M` };
  if (mb > MAX_MEM_MB) return { ok: false, error: `${JSON.stringify(value)} is more memory than any scheduler accepts (at most ${MAX_MEM_MB} MB)` };
  return { ok: true, value: mb };
}

/** Minutes, rounded up to a whole minute; `90m`, `2h`, `1h30m`, `1d12h`, `45s`, or minutes as an integer. */
export function parseTimeMinutes(value: PlainValue): Result<number, string> {
  let minutes: number;
  if (typeof value === 'number') minutes = value;
  else if (typeof value === 'string') {
    const match = /^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/.exec(value);
    if (!match || value === '') return { ok: false, error: `"${value}" is not a duration: write 90m, 2h, 1h30m, 1d12h, or minutes as a number` };
    const [, d, h, m, s] = match;
    const parts: [string | undefined, string][] = [[d, 'd'], [h, 'h'], [m, 'm'], [s, 's']];
    let total = 0;
    for (const [amount, unit] of parts) if (amount !== undefined) total += Number(amount) * (TIME_UNITS_MIN[unit] ?? 1);
    minutes = Math.ceil(total);
  } else return { ok: false, error: 'must be a duration such as 2h or a number of minutes' };
  if (!Number.isFinite(minutes) || minutes <= 0) return { ok: false, error: `${JSON.stringify(value)} is no time at all; give at least 1m` };
  if (minutes > MAX_TIME_MINUTES) {
    return { ok: false, error: `${JSON.stringify(value)} is longer than any scheduler accepts (at most ${MAX_TIME_MINUTES} minutes, about 4000 years)` };
  }
  return { ok: true, value: minutes };
}
