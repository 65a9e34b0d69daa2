/**
 * Errors as values, for callers that must handle failure (a missing model, a malformed file, a stage that failed).
 * The one Result of the repository, in the contract (which imports nothing) so that every area may use it; core
 * may import this file and nothing else of the contract.
 * Without a second argument the error is a stage's Failure (as wireit's `Result<T, E = Failure>`).
 */
import type { Failure } from './failure.js';

export type Result<T, E = Failure> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
