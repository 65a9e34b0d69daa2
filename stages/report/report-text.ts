/** Small wording helpers shared by the Markdown and HTML renderers, so both say the same thing. */
import type { SmokeVerdict } from './report-document.js';

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
