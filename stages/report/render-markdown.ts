/**
 * report.md: the same tables as the HTML page, as GitHub-flavoured Markdown, with the plots referenced as SVG
 * files in plots/ (relative links, so the directory can be moved or committed as is).
 */
import type { ReportDocument, ReportSection, SourceStage } from './report-document.js';
import { formatCell, type ReportTable } from './table-model.js';
import { headerLines } from './report-header.js';
import { ORIGIN_HEADERS, PROVENANCE_HEADERS, originCells, originLegend, provenanceCells, shortHash, smokeBannerText } from './report-text.js';

export function plotFile(id: string): string {
  return `plots/${id}.svg`;
}

export function renderMarkdown(doc: ReportDocument): string {
  const out: string[] = [];
  out.push(`# ${doc.title}`, '');
  if (doc.smoke.smoke) {
    out.push(`> **⚠ ${smokeBannerText(doc.smoke)}**`, '>');
    for (const reason of doc.smoke.reasons) out.push(`> - ${escapeInline(reason)}`);
    out.push('');
  }
  out.push(
    `Behaviour **${escapeInline(doc.behavior)}** · built ${doc.builtBy.created} by stage \`${doc.builtBy.stageId}\`` +
      ` (run ${doc.builtBy.runId ?? 'not recorded'}, key ${shortHash(doc.builtBy.stageKey)}).` +
      ' Every row names the stage it came from; the provenance table at the end gives that stage\'s run, key,' +
      ' model, dataset, backend and date.',
    '',
  );
  out.push('**What produced this report**', '', '| | |', '| --- | --- |');
  for (const l of headerLines(doc.header)) out.push(`| ${escapeCell(l.label)} | ${escapeCell(l.value)} |`);
  out.push('');
  if (doc.warnings.length > 0) {
    out.push('**Warnings**', '');
    for (const w of doc.warnings) out.push(`- ${escapeInline(w)}`);
    out.push('');
  }
  out.push('## Contents', '');
  for (const s of doc.sections) out.push(`- [${s.title}](#${s.id})`);
  out.push('- [Provenance](#provenance)', '');
  for (const s of doc.sections) out.push(...renderSection(s));
  out.push(...renderProvenance(doc.sources));
  return `${out.join('\n')}\n`;
}

function renderSection(s: ReportSection): string[] {
  const out: string[] = [`<a id="${s.id}"></a>`, '', `## ${s.title}`, '', s.intro, ''];
  for (const t of s.tables) out.push(...renderTable(t));
  for (const p of s.plots) {
    out.push(`![${escapeInline(p.title)}](${plotFile(p.id)})`, '', `*${escapeInline(p.caption)}*`, '');
  }
  for (const o of s.omitted) out.push(`> **${escapeInline(o.title)}** omitted: ${escapeInline(o.reason)}`, '');
  return out;
}

export function renderTable(t: ReportTable): string[] {
  const out: string[] = [`### ${t.title}`, '', t.caption, ''];
  out.push(`| ${t.columns.map((c) => escapeCell(c.header)).join(' | ')} |`);
  out.push(`|${t.columns.map((c) => (c.format === undefined ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const row of t.rows) {
    out.push(`| ${t.columns.map((c) => escapeCell(formatCell(row[c.key] ?? null, c.format))).join(' | ')} |`);
  }
  out.push('');
  for (const note of t.notes) out.push(`- ${escapeInline(note)}`);
  if (t.notes.length > 0) out.push('');
  const sources = t.sources.map((s) => `\`${s.stageId}\` (${s.files.join(', ')})`).join('; ');
  out.push(`Source: ${sources}`, '');
  return out;
}

function renderProvenance(sources: readonly SourceStage[]): string[] {
  const out = ['<a id="provenance"></a>', '', '## Provenance', ''];
  const legend = originLegend(sources);
  const origins = [...legend.models, ...legend.datasets];
  if (origins.length > 0) {
    out.push('Models (M) and datasets (D) the stages read:', '');
    out.push(`| ${ORIGIN_HEADERS.join(' | ')} |`, `|${ORIGIN_HEADERS.map(() => ' --- ').join('|')}|`);
    for (const e of origins) out.push(`| ${originCells(e).map((c) => escapeCell(c.text)).join(' | ')} |`);
    out.push('');
  }
  out.push(`| ${PROVENANCE_HEADERS.join(' | ')} |`, `|${PROVENANCE_HEADERS.map(() => ' --- ').join('|')}|`);
  for (const s of sources) out.push(`| ${provenanceCells(s, legend).map((c) => escapeCell(c.text)).join(' | ')} |`);
  out.push('', 'Fingerprints and keys are shortened to 12 characters; report.json has them in full.', '');
  return out;
}

function escapeCell(text: string): string {
  return escapeInline(text).replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function escapeInline(text: string): string {
  return text.replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
