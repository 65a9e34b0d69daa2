/**
 * The daily-dilemmas scoring parameters shared by the kinds that score dilemmas (eval-dilemmas, ablate-delora): the
 * JSON schema fragment and its parsing. The prompt template and the anchor live here, i.e. only in these kinds'
 * `with:`, so editing them reruns only the evaluation stages and what follows. (The rows come from a `dilemmas`
 * stage.)
 * Cheap to import (no TensorFlow.js).
 */
import { DD_FORMATS, DEFAULT_DD_FORMAT, GUIDED_COT, GUIDED_DD_FORMATS, SCORED_DD_FORMATS, type DilemmaFormat, type DilemmaFormatName } from '../prompts.js';
import { CHOICE_RULES, DEFAULT_CHOICE_RULE, type ChoiceRule } from '../choice-ids.js';
import type { ParamSchema, ParamsOf } from '../../../src/contract/stage-kind.js';

export const DILEMMA_PARAM_PROPERTIES = {
  format: { enum: [...SCORED_DD_FORMATS], default: DEFAULT_DD_FORMAT, description: 'prompt template: f1 (E2, the published tables), f2 (AntiPaSTO-style), f2-antipasto (with its leading newline), f3 (guided chain of thought: a think block generated under the steering, then the anchor)' },
  think_tokens: { type: 'integer', minimum: 1, default: GUIDED_COT.nThink, description: 'f3 only: greedy think tokens before the block is closed by force (the study: 128)' },
  instruction: { type: ['string', 'null'], default: null, description: 'replace the format\'s user template (placeholders {dilemma_situation} and {action})' },
  anchor: { type: ['string', 'null'], default: null, description: 'assistant prefill the Yes/No token is scored after (null: the format\'s, "My choice: **" for f1)' },
  system_prompt: { type: 'string', default: '', description: 'system prompt of the steered model (the study uses none: "")' },
  batch_size: { type: 'integer', minimum: 1, default: 8 },
  max_length: { type: 'integer', minimum: 8, default: 512, description: 'tokens kept from the END of each prompt (truncation side left, as the study)' },
  choice_rule: { enum: [...CHOICE_RULES], default: DEFAULT_CHOICE_RULE, description: 'Yes/No token matching: latest (canonical), e1, antipasto' },
  pmass_threshold: { type: 'number', exclusiveMinimum: 0, default: 0.01, description: 'low_pmass flag: pmass < threshold · max token probability' },
} as const satisfies Readonly<Record<string, ParamSchema>>;

/** These params as a kind that spreads DILEMMA_PARAM_PROPERTIES into its schema receives them. */
export type DilemmaParamValues = ParamsOf<{ readonly type: 'object'; readonly properties: typeof DILEMMA_PARAM_PROPERTIES }>;

export interface DilemmaParams {
  formatName: DilemmaFormatName;
  format: DilemmaFormat;
  systemPrompt: string;
  batchSize: number;
  maxLength: number;
  choiceRule: ChoiceRule;
  pmassThreshold: number;
  /** f3: the think budget; null for formats scored right after a fixed prompt */
  guided: { nThink: number } | null;
}

/** The scoring settings of a kind's parsed params; null instruction or anchor means the format's own. */
export function parseDilemmaParams(p: Readonly<DilemmaParamValues>): DilemmaParams {
  const base = DD_FORMATS[p.format];
  return {
    formatName: p.format,
    format: { instruction: p.instruction ?? base.instruction, anchor: p.anchor ?? base.anchor },
    systemPrompt: p.system_prompt,
    batchSize: p.batch_size,
    maxLength: p.max_length,
    choiceRule: p.choice_rule,
    pmassThreshold: p.pmass_threshold,
    guided: GUIDED_DD_FORMATS.includes(p.format) ? { nThink: p.think_tokens } : null,
  };
}
