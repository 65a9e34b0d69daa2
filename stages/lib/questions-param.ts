/**
 * The `questions` param of the kinds that read the question/suffix pool (repe, kl-target): its schema, the file it
 * names resolved against the project, and that file as an external input. Cheap (no TensorFlow.js).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ExternalInputsResult } from '../../src/contract/stage-kind.js';
import { err, ok } from '../../src/contract/result.js';

export const DEFAULT_QUESTIONS = 'data/questions.json';

/** The `questions` param (the question pool file), resolved against the project. */
export function questionsPath(params: { readonly questions: string }, projectDir: string): string {
  const q = params.questions;
  return isAbsolute(q) ? q : resolve(projectDir, q);
}

/** The question pool file as an external input; a missing file is a planning error naming it. */
export function questionsExternalInput(params: { readonly questions: string }, projectDir: string): ExternalInputsResult {
  const path = questionsPath(params, projectDir);
  if (!existsSync(path)) return err({ param: 'questions', message: `question pool ${path} does not exist (a JSON array of {cat, suffix, user_msg}; the project ships ${DEFAULT_QUESTIONS})` });
  return ok([{ label: 'questions', path }]);
}

export const QUESTIONS_PARAM = {
  type: 'string',
  minLength: 1,
  default: DEFAULT_QUESTIONS,
  description: 'the question/suffix pool: a JSON array of {cat, suffix, user_msg} (the shipped pool, or the reference study\'s branching_suffixes.json)',
} as const;
