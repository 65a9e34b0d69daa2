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

export const PROVENANCE_HEADERS = ['stage', 'input', 'kind', 'run', 'stage key', 'model', 'dataset', 'backend', 'finished'] as const;

export const ORIGIN_HEADERS = ['label', 'name', 'fingerprint', 'note', 'stages'] as const;

/** A provenance table cell: its text, and the full value when the text is a shortened hash. */
export interface ProvenanceCell {
  text: string;
  full?: string;
}

/**
 * Models and datasets get a short label (M1, D1 …), listed once with their full name and fingerprint: a model id
 * can be 95 characters, and the same one on every row of the provenance table buried the columns that differ.
 */
export interface OriginLegend {
  models: OriginEntry[];
  datasets: OriginEntry[];
}

export interface OriginEntry {
  label: string;
  name: string;
  fingerprint: string | null;
  note: string;
  stages: number;
}

function originKey(name: string, fingerprint: string | null): string {
  return `${name}\u0000${fingerprint ?? ''}`;
}

export function originLegend(sources: readonly SourceStage[]): OriginLegend {
  const collect = (prefix: string, pick: (s: SourceStage) => { name: string; fingerprint: string | null; flagged: boolean } | null, flag: string): OriginEntry[] => {
    const byKey = new Map<string, OriginEntry>();
    for (const s of sources) {
      const o = pick(s);
      if (o === null) continue;
      const key = originKey(o.name, o.fingerprint);
      const e = byKey.get(key) ?? { label: `${prefix}${byKey.size + 1}`, name: o.name, fingerprint: o.fingerprint, note: o.flagged ? flag : '', stages: 0 };
      e.stages++;
      byKey.set(key, e);
    }
    return [...byKey.values()];
  };
  return {
    models: collect('M', (s) => (s.provenance?.model == null ? null : { name: s.provenance.model, fingerprint: s.provenance.model_fingerprint, flagged: s.provenance.model_random }), 'random weights'),
    datasets: collect('D', (s) => (s.provenance?.dataset == null ? null : { name: s.provenance.dataset, fingerprint: s.provenance.dataset_fingerprint, flagged: s.provenance.dataset_synthetic }), 'synthetic'),
  };
}

/** One row of the origin legend, in ORIGIN_HEADERS order. */
export function originCells(e: OriginEntry): ProvenanceCell[] {
  return [
    { text: e.label },
    { text: e.name },
    e.fingerprint === null ? { text: shortHash(null) } : { text: shortHash(e.fingerprint), full: e.fingerprint },
    { text: e.note === '' ? '—' : e.note },
    { text: String(e.stages) },
  ];
}

/** One row of the provenance table, in PROVENANCE_HEADERS order. */
export function provenanceCells(s: SourceStage, legend: OriginLegend): ProvenanceCell[] {
  const p = s.provenance;
  const hash = (value: string | null): ProvenanceCell => (value === null ? { text: shortHash(null) } : { text: shortHash(value), full: value });
  const label = (entries: readonly OriginEntry[], name: string | null | undefined, fingerprint: string | null | undefined): ProvenanceCell => {
    if (name === undefined) return { text: 'unknown' };
    if (name === null) return { text: '—' };
    const e = entries.find((x) => x.name === name && x.fingerprint === (fingerprint ?? null));
    return e === undefined ? { text: name } : { text: e.label, full: `${e.name} ${e.fingerprint ?? ''}`.trim() };
  };
  return [
    { text: s.stageId },
    { text: s.input },
    { text: p === null ? 'provenance.json missing' : `${p.kind}@${p.version}` },
    { text: s.runId === null ? 'not recorded' : String(s.runId) },
    hash(s.key),
    label(legend.models, p?.model, p?.model_fingerprint),
    label(legend.datasets, p?.dataset, p?.dataset_fingerprint),
    { text: s.backend ?? '—' },
    { text: s.finishedAt ?? 'not recorded' },
  ];
}
