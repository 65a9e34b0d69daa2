/**
 * Whether a profile has recorded anything: the commands that read records without loading the pipeline (logs,
 * metrics, run comparison, gc) ask the pipeline whether a profile that recorded nothing exists at all, so that a
 * misspelt `--profile` or WSFLOW_PROFILE is an error rather than an empty answer.
 */
import { profileKey } from '../state/state-store.js';
import { openRecordedState } from '../project.js';

export function profileHasRecords(projectDir: string, profile: string | null): boolean {
  const state = openRecordedState(projectDir, { readOnly: true });
  if (!state) return false;
  try {
    const key = profileKey(profile);
    const db = state.store.db;
    return (
      db.prepare(`SELECT 1 FROM executions WHERE profile = ? LIMIT 1`).get(key) !== undefined ||
      db.prepare(`SELECT 1 FROM stage_heads WHERE profile = ? LIMIT 1`).get(key) !== undefined ||
      db.prepare(`SELECT 1 FROM runs WHERE profile = ? LIMIT 1`).get(profile) !== undefined
    );
  } finally {
    state.close();
  }
}
