/** The expanded graph as text, Mermaid or Graphviz DOT (`wsflow dag --format`). */
import type { Pipeline, PlannedStage } from './types.js';

export type DagFormat = 'text' | 'mermaid' | 'dot';

function sourceLabel(stage: PlannedStage): string {
  return stage.source.type === 'kind' ? `uses ${stage.source.uses}` : `cmd: ${stage.source.cmd.split('\n', 1)[0] ?? ''}`;
}

/** Each edge: upstream id, downstream id, and the input name when it differs from the upstream's stage name. */
function edges(pipeline: Pipeline, ids: ReadonlySet<string>): { from: string; to: string; label?: string }[] {
  const out: { from: string; to: string; label?: string }[] = [];
  for (const id of ids) {
    const stage = pipeline.stages.get(id);
    if (!stage) continue;
    for (const [input, ups] of Object.entries(stage.needs)) {
      for (const up of ups) {
        if (!ids.has(up)) continue;
        const upstream = pipeline.stages.get(up);
        out.push(upstream?.name === input ? { from: up, to: id } : { from: up, to: id, label: input });
      }
    }
  }
  return out;
}

function renderText(pipeline: Pipeline, ids: readonly string[]): string {
  const width = Math.min(40, Math.max(...ids.map((id) => id.length)));
  const lines: string[] = [];
  for (const id of ids) {
    const stage = pipeline.stages.get(id);
    if (!stage) continue;
    const writes = stage.source.type === 'kind' ? `  → ${stage.outDir}` : '';
    lines.push(`${id.padEnd(width)}  ${sourceLabel(stage)}${writes}`);
    for (const [input, ups] of Object.entries(stage.needs)) lines.push(`    ${input} ← ${ups.join(', ')}`);
    if (stage.deps.length > 0) lines.push(`    deps: ${stage.deps.join(', ')}`);
    if (stage.source.type === 'cmd' && stage.outs.length > 0) lines.push(`    outs: ${stage.outs.join(', ')}`);
  }
  const total = pipeline.stages.size;
  const stages = (n: number): string => `${n} ${n === 1 ? 'stage' : 'stages'}`;
  lines.push('', ids.length === total ? stages(total) : `${ids.length} of ${stages(total)}`);
  return lines.join('\n');
}

function renderMermaid(pipeline: Pipeline, ids: readonly string[]): string {
  const node = new Map(ids.map((id, i) => [id, `s${i}`]));
  const escape = (text: string): string => text.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  for (const id of ids) lines.push(`  ${node.get(id) ?? ''}["${escape(id)}"]`);
  for (const edge of edges(pipeline, new Set(ids))) {
    const label = edge.label === undefined ? '' : `|${escape(edge.label)}|`;
    lines.push(`  ${node.get(edge.from) ?? ''} -->${label} ${node.get(edge.to) ?? ''}`);
  }
  return lines.join('\n');
}

function renderDot(pipeline: Pipeline, ids: readonly string[]): string {
  const quote = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = ['digraph wsflow {', '  rankdir=LR;', '  node [shape=box];'];
  for (const id of ids) lines.push(`  ${quote(id)};`);
  for (const edge of edges(pipeline, new Set(ids))) {
    const label = edge.label === undefined ? '' : ` [label=${quote(edge.label)}]`;
    lines.push(`  ${quote(edge.from)} -> ${quote(edge.to)}${label};`);
  }
  lines.push('}');
  return lines.join('\n');
}

/** `ids` in the order to print (pipeline order, possibly a selection). */
export function renderDag(pipeline: Pipeline, ids: readonly string[], format: DagFormat): string {
  switch (format) {
    case 'text':
      return renderText(pipeline, ids);
    case 'mermaid':
      return renderMermaid(pipeline, ids);
    case 'dot':
      return renderDot(pipeline, ids);
  }
}
