/** Small wording helpers shared by the Markdown and HTML renderers, so both say the same thing. */
import type { SmokeVerdict, SourceStage } from './report-document.js';

/** First 12 characters of a hash-like value (after an optional "algo:" prefix); "not recorded" for null. */
export function shortHash(value: string | null): string {
  if (value === null) return 'not recorded';
  const colon = value.indexOf(':');
  const body = colon >= 0 && colon < 10 ? value.slice(colon + 1) : value;
  return body.length > 12 ? body.slice(0, 12) : body;
}

export function smokeBannerText(verdict: SmokeVerdict): string {
  return verdict.smoke
    ? 'SMOKE RUN — built from a random model and/or synthetic dilemmas. These numbers test the plumbing; they say nothing about steering.'
    : '';
}

export const PROVENANCE_HEADERS = ['stage', 'input', 'kind', 'run', 'stage key', 'model', 'model fingerprint', 'dataset', 'dataset fingerprint', 'backend', 'finished'] as const;

/** A provenance table cell: its text, and the full value when the text is a shortened hash. */
export interface ProvenanceCell {
  text: string;
  full?: string;
}

/** One row of the provenance table, in PROVENANCE_HEADERS order. */
export function provenanceCells(s: SourceStage): ProvenanceCell[] {
  const p = s.provenance;
  const hash = (value: string | null): ProvenanceCell => (value === null ? { text: shortHash(null) } : { text: shortHash(value), full: value });
  const named = (name: string | null | undefined, flagged: boolean, flag: string): ProvenanceCell => ({
    text: name === undefined ? 'unknown' : name === null ? '—' : `${name}${flagged ? ` (${flag})` : ''}`,
  });
  return [
    { text: s.stageId },
    { text: s.input },
    { text: p === null ? 'provenance.json missing' : `${p.kind}@${p.version}` },
    { text: s.runId === null ? 'not recorded' : String(s.runId) },
    hash(s.key),
    named(p?.model, p?.model_random === true, 'random'),
    hash(p?.model_fingerprint ?? null),
    named(p?.dataset, p?.dataset_synthetic === true, 'synthetic'),
    hash(p?.dataset_fingerprint ?? null),
    { text: s.backend ?? '—' },
    { text: s.finishedAt ?? 'not recorded' },
  ];
}
