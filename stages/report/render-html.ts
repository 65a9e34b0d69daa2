/**
 * report.html: one self-contained file (inline CSS and SVG, no scripts, no external requests). A strict
 * Content-Security-Policy makes the promise checkable: a browser refuses, and logs, any attempt to fetch.
 */
import type { RenderedPlot, ReportDocument, ReportSection, SourceStage } from './report-document.js';
import { formatCell, type ReportTable } from './table-model.js';
import { headerLines } from './report-header.js';
import { ORIGIN_HEADERS, PROVENANCE_HEADERS, originCells, originLegend, provenanceCells, shortHash, smokeBannerText, type ProvenanceCell } from './report-text.js';

const CSS = `
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0 auto; max-width: 1500px; padding: 1.5rem 2rem 4rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.3rem; margin-top: 2.4rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 0.3rem; }
p.meta { color: #555; font-size: 0.9rem; }
.smoke { background: #fff3cd; border: 3px solid #d9534f; color: #6b1d1b; padding: 0.9rem 1.2rem; margin: 0.8rem 0 1.2rem; border-radius: 6px; }
.smoke strong { font-size: 1.15rem; display: block; margin-bottom: 0.3rem; }
.smoke ul { margin: 0.3rem 0 0; }
.warnings { background: #f4f4f8; border-left: 4px solid #8a6d3b; padding: 0.5rem 1rem; }
nav ul { columns: 2; }
table { border-collapse: collapse; font-size: 0.82rem; margin: 0.4rem 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.22rem 0.55rem; white-space: nowrap; }
th { background: #f3f5f8; text-align: center; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.text { text-align: left; }
tr:hover td { background: #fafbe8; }
p.caption { margin: 0.2rem 0 0.4rem; color: #333; font-size: 0.9rem; max-width: 60rem; }
p.source { color: #666; font-size: 0.78rem; margin: 0.2rem 0 1rem; }
ul.notes { font-size: 0.82rem; color: #444; margin: 0.2rem 0; }
.omitted { color: #7a5c00; background: #fffbea; border-left: 4px solid #e0b000; padding: 0.4rem 0.8rem; font-size: 0.88rem; }
figure { margin: 1rem 0 1.6rem; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85rem; color: #444; max-width: 60rem; }
.table-wrap { overflow-x: auto; max-width: 100%; }
/* wide tables scroll sideways inside their box; the method/stage column stays in view */
.table-wrap th:first-child, .table-wrap td:first-child { position: sticky; left: 0; z-index: 1; background: #ffffff; box-shadow: 1px 0 0 #d0d0d0; }
.table-wrap th:first-child { background: #f3f5f8; }
.table-wrap tr:hover td:first-child { background: #fafbe8; }
figure { overflow-x: auto; }
/* on a phone, plots keep their drawn size (labels stay legible) and scroll sideways instead of shrinking */
@media (max-width: 700px) {
  body { padding: 0.8rem 0.7rem 3rem; }
  nav ul { columns: 1; }
  figure svg { max-width: none; }
  table { font-size: 0.78rem; }
}
code { font-size: 0.9em; }
table.header { margin: 0.4rem 0 1rem; font-size: 0.85rem; }
table.header caption { text-align: left; font-weight: 600; padding-bottom: 0.2rem; }
table.header th { text-align: left; background: none; white-space: normal; vertical-align: top; }
table.header td { white-space: normal; overflow-wrap: anywhere; }
`;

export function renderHtml(doc: ReportDocument): string {
  const body: string[] = [];
  body.push(`<h1>${esc(doc.title)}</h1>`);
  if (doc.smoke.smoke) {
    body.push(
      `<div class="smoke" role="alert" id="smoke-banner"><strong>⚠ ${esc(smokeBannerText(doc.smoke))}</strong><ul>` +
        doc.smoke.reasons.map((r) => `<li>${esc(r)}</li>`).join('') +
        '</ul></div>',
    );
  }
  body.push(
    `<p class="meta">Behaviour <b>${esc(doc.behavior)}</b> · built ${esc(doc.builtBy.created)} by stage ` +
      `<code>${esc(doc.builtBy.stageId)}</code> (run ${esc(doc.builtBy.runId ?? 'not recorded')}, key ` +
      `${esc(shortHash(doc.builtBy.stageKey))}). Every row names the stage it came from; the ` +
      '<a href="#provenance">provenance table</a> gives that stage\'s run, key, model, dataset, backend and date.</p>',
  );
  body.push(
    '<table class="header" id="report-header" data-table="header"><caption>What produced this report</caption><tbody>' +
      headerLines(doc.header).map((l) => `<tr><th scope="row">${esc(l.label)}</th><td>${esc(l.value)}</td></tr>`).join('') +
      '</tbody></table>',
  );
  if (doc.warnings.length > 0) {
    body.push(`<div class="warnings"><b>Warnings</b><ul>${doc.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>`);
  }
  body.push(
    '<nav><b>Contents</b><ul>' +
      doc.sections.map((s) => `<li><a href="#${esc(s.id)}">${esc(s.title)}</a></li>`).join('') +
      '<li><a href="#provenance">Provenance</a></li></ul></nav>',
  );
  for (const s of doc.sections) body.push(renderSection(s));
  body.push(renderProvenance(doc.sources));
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<link rel="icon" href="data:,">',
    `<title>${esc(doc.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function renderSection(s: ReportSection): string {
  const parts = [`<section id="${esc(s.id)}">`, `<h2>${esc(s.title)}</h2>`, `<p class="caption">${esc(s.intro)}</p>`];
  for (const t of s.tables) parts.push(renderTable(t));
  for (const p of s.plots) parts.push(renderPlot(p));
  for (const o of s.omitted) parts.push(`<p class="omitted"><b>${esc(o.title)}</b> omitted: ${esc(o.reason)}</p>`);
  parts.push('</section>');
  return parts.join('\n');
}

function renderTable(t: ReportTable): string {
  const head = t.columns
    .map((c) => `<th${c.description === undefined ? '' : ` title="${esc(c.description)}"`}>${esc(c.header)}</th>`)
    .join('');
  const rows = t.rows
    .map(
      (row) =>
        '<tr>' +
        t.columns
          .map((c) => {
            const cls = c.format === undefined ? 'text' : 'num';
            return `<td class="${cls}" data-col="${esc(c.key)}">${esc(formatCell(row[c.key] ?? null, c.format))}</td>`;
          })
          .join('') +
        '</tr>',
    )
    .join('\n');
  const notes = t.notes.length > 0 ? `<ul class="notes">${t.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  const sources = t.sources
    .map((s) => `<a href="#prov-${esc(anchor(s.stageId))}"><code>${esc(s.stageId)}</code></a> (${esc(s.files.join(', '))})`)
    .join('; ');
  return [
    `<h3 id="table-${esc(t.id)}">${esc(t.title)}</h3>`,
    `<p class="caption">${esc(t.caption)}</p>`,
    `<div class="table-wrap"><table data-table="${esc(t.id)}"><thead><tr>${head}</tr></thead><tbody>`,
    rows,
    '</tbody></table></div>',
    notes,
    `<p class="source">Source: ${sources}</p>`,
  ].join('\n');
}

function renderPlot(p: RenderedPlot): string {
  return [
    `<figure id="plot-${esc(p.id)}" data-plot="${esc(p.id)}" data-marks="${esc(p.marks.join(' '))}">`,
    p.svg,
    `<figcaption><b>${esc(p.title)}.</b> ${esc(p.caption)}</figcaption>`,
    '</figure>',
  ].join('\n');
}

function cellHtml(c: ProvenanceCell): string {
  return c.full === undefined ? esc(c.text) : `<span title="${esc(c.full)}">${esc(c.text)}</span>`;
}

function renderProvenance(sources: readonly SourceStage[]): string {
  const legend = originLegend(sources);
  const origins = [...legend.models, ...legend.datasets];
  const originTable =
    origins.length === 0
      ? ''
      : '<p class="caption">Models (M) and datasets (D) the stages read, each listed once; the table below names them by label.</p>' +
        `<div class="table-wrap"><table data-table="origins"><thead><tr>${ORIGIN_HEADERS.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>` +
        origins.map((e) => `<tr>${originCells(e).map((c) => `<td class="text">${cellHtml(c)}</td>`).join('')}</tr>`).join('\n') +
        '</tbody></table></div>';
  const rows = sources.map((s) => {
    const [stage, ...rest] = provenanceCells(s, legend);
    const cells = [
      `<code>${esc(stage?.text ?? '')}</code>`,
      ...rest.map(cellHtml),
    ];
    return `<tr id="${esc(`prov-${anchor(s.stageId)}`)}">${cells.map((c) => `<td class="text">${c}</td>`).join('')}</tr>`;
  });
  return [
    '<section id="provenance">',
    '<h2>Provenance</h2>',
    '<p class="caption">Each upstream stage the report read: run, key, backend and finishing time of the execution that produced its output, as the engine recorded it; model and dataset from the provenance.json next to its data. Hover a shortened hash for the full value; report.json has every value in full.</p>',
    originTable,
    `<div class="table-wrap"><table data-table="provenance"><thead><tr>${PROVENANCE_HEADERS.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>`,
    rows.join('\n'),
    '</tbody></table></div>',
    '</section>',
  ].join('\n');
}

function anchor(stageId: string): string {
  return stageId.replace(/[^A-Za-z0-9_-]/g, '_');
}

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
