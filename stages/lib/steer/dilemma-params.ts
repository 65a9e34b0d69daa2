/**
 * The daily-dilemmas scoring parameters shared by the kinds that score dilemmas (eval-dilemmas, ablate-delora): the
 * JSON schema fragment and its parsing. The prompt template and the anchor live here, i.e. only in these kinds'
 * `with:`, so editing them reruns only the evaluation stages and what follows. (The rows come from a `dilemmas`
 * stage.)
 * Cheap to import (no TensorFlow.js).
 */
import { DD_FORMATS, DEFAULT_DD_FORMAT, type DilemmaFormat, type DilemmaFormatName } from '../prompts.js';
import { CHOICE_RULES, DEFAULT_CHOICE_RULE, type ChoiceRule } from '../choice-ids.js';
import type { JsonSchema } from '../../../src/contract/stage-kind.js';

export const DILEMMA_PARAM_PROPERTIES: Readonly<Record<string, JsonSchema>> = {
  format: { enum: Object.keys(DD_FORMATS).filter((f) => f !== 'f3'), default: DEFAULT_DD_FORMAT, description: 'prompt template: f1 (E2, the published tables), f2 (AntiPaSTO-style), f2-antipasto (with its leading newline)' },
  instruction: { type: ['string', 'null'], default: null, description: 'replace the format\'s user template (placeholders {dilemma_situation} and {action})' },
  anchor: { type: ['string', 'null'], default: null, description: 'assistant prefill the Yes/No token is scored after (null: the format\'s, "My choice: **" for f1)' },
  system_prompt: { type: 'string', default: '', description: 'system prompt of the steered model (the study uses none: "")' },
  batch_size: { type: 'integer', minimum: 1, default: 8 },
  max_length: { type: 'integer', minimum: 8, default: 512, description: 'tokens kept from the END of each prompt (truncation side left, as the study)' },
  choice_rule: { enum: [...CHOICE_RULES], default: DEFAULT_CHOICE_RULE, description: 'Yes/No token matching: latest (canonical), e1, antipasto' },
  pmass_threshold: { type: 'number', exclusiveMinimum: 0, default: 0.01, description: 'low_pmass flag: pmass < threshold · max token probability' },
};

export interface DilemmaParams {
  formatName: DilemmaFormatName;
  format: DilemmaFormat;
  systemPrompt: string;
  batchSize: number;
  maxLength: number;
  choiceRule: ChoiceRule;
  pmassThreshold: number;
}

/** The stage's params: the engine fills schema defaults; raw params (tests) fall back to the same defaults. */
export function parseDilemmaParams(p: Readonly<Record<string, unknown>>): DilemmaParams {
  const value = <T>(key: string): T => (p[key] ?? DILEMMA_PARAM_PROPERTIES[key]?.['default']) as T;
  const formatName = value<DilemmaFormatName>('format');
  const base = DD_FORMATS[formatName];
  if (base === undefined) throw new Error(`format: unknown daily-dilemmas format ${JSON.stringify(formatName)}`);
  // null: the format's own template and anchor
  const instruction = value<string | null>('instruction') ?? base.instruction;
  const anchor = value<string | null>('anchor') ?? base.anchor;
  return {
    formatName,
    format: { instruction, anchor },
    systemPrompt: value<string>('system_prompt'),
    batchSize: value<number>('batch_size'),
    maxLength: value<number>('max_length'),
    choiceRule: value<ChoiceRule>('choice_rule'),
    pmassThreshold: value<number>('pmass_threshold'),
  };
}
