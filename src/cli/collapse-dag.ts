/**
 * `wsflow dag --collapse`: one node per stage name (all its matrix cells), like `snakemake --rulegraph`; edges
 * between names, once each. Text, Mermaid or DOT as the expanded graph (pipeline/render-dag.ts).
 */
import type { DagFormat } from '../pipeline/render-dag.js';
import type { Pipeline, PlannedStage } from '../pipeline/types.js';

interface NameNode {
  name: string;
  cells: number;
  axes: string[];
  source: string;
  /** upstream name → the input names it feeds (the edge label where it differs from the upstream's name) */
  needs: Map<string, Set<string>>;
}

function sourceLabel(stage: PlannedStage): string {
  return stage.source.type === 'kind' ? `uses ${stage.source.uses}` : `cmd: ${stage.source.cmd.split('\n', 1)[0] ?? ''}`;
}

/** the stage names of `ids`, in the order their first cell appears */
function collapse(pipeline: Pipeline, ids: readonly string[]): NameNode[] {
  const nodes = new Map<string, NameNode>();
  for (const id of ids) {
    const stage = pipeline.stages.get(id);
    if (!stage) continue;
    let node = nodes.get(stage.name);
    if (!node) {
      node = { name: stage.name, cells: 0, axes: Object.keys(stage.matrix), source: sourceLabel(stage), needs: new Map() };
      nodes.set(stage.name, node);
    }
    node.cells++;
    for (const [input, ups] of Object.entries(stage.needs)) {
      for (const up of ups) {
        const upName = pipeline.stages.get(up)?.name;
        if (upName === undefined || !ids.includes(up)) continue;
        const inputs = node.needs.get(upName) ?? new Set<string>();
        inputs.add(input);
        node.needs.set(upName, inputs);
      }
    }
  }
  return [...nodes.values()];
}

function edgeLabel(upName: string, inputs: ReadonlySet<string>): string | undefined {
  const other = [...inputs].filter((i) => i !== upName);
  return other.length === 0 ? undefined : [...inputs].join(', ');
}

export function renderCollapsedDag(pipeline: Pipeline, ids: readonly string[], format: DagFormat): string {
  const nodes = collapse(pipeline, ids);
  const cellsText = (n: NameNode): string => (n.axes.length === 0 ? '1 stage' : `${n.cells} cells (${n.axes.join(' × ')})`);
  switch (format) {
    case 'text': {
      const width = Math.min(40, Math.max(...nodes.map((n) => n.name.length)));
      const lines: string[] = [];
      for (const n of nodes) {
        lines.push(`${n.name.padEnd(width)}  ${cellsText(n)}  ${n.source}`);
        for (const [up, inputs] of n.needs) lines.push(`    ${[...inputs].join(', ')} ← ${up}`);
      }
      lines.push('', `${nodes.length} stage names, ${ids.length} stages`);
      return lines.join('\n');
    }
    case 'mermaid': {
      const id = new Map(nodes.map((n, i) => [n.name, `n${i}`]));
      const escape = (text: string): string => text.replace(/"/g, '#quot;');
      const lines = ['flowchart LR'];
      for (const n of nodes) lines.push(`  ${id.get(n.name) ?? ''}["${escape(n.axes.length ? `${n.name} ×${n.cells}` : n.name)}"]`);
      for (const n of nodes) {
        for (const [up, inputs] of n.needs) {
          const label = edgeLabel(up, inputs);
          lines.push(`  ${id.get(up) ?? ''} -->${label === undefined ? '' : `|${escape(label)}|`} ${id.get(n.name) ?? ''}`);
        }
      }
      return lines.join('\n');
    }
    case 'dot': {
      const quote = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
      const lines = ['digraph wsflow {', '  rankdir=LR;', '  node [shape=box];'];
      for (const n of nodes) lines.push(`  ${quote(n.name)}${n.axes.length ? ` [label=${quote(`${n.name} ×${n.cells}`)}]` : ''};`);
      for (const n of nodes) {
        for (const [up, inputs] of n.needs) {
          const label = edgeLabel(up, inputs);
          lines.push(`  ${quote(up)} -> ${quote(n.name)}${label === undefined ? '' : ` [label=${quote(label)}]`};`);
        }
      }
      lines.push('}');
      return lines.join('\n');
    }
  }
}
