/**
 * The stages as declared (after the profile): what each one is (kind or command), which matrix axes it expands
 * over, and its cells. Checks what the schema cannot express: exactly one of uses/cmd, keys that belong to the
 * other stage type, foreach axes that exist, cell ids that do not collide.
 */
import type { DiagnosticSink } from './diagnostics.js';
import { didYouMean, listNames } from './suggest.js';
import { entryValue, isMapNode } from './source-tree.js';
import type { MapNode, Range, ScalarNode } from './source-tree.js';
import type { MatrixValue } from './types.js';

export interface MatrixAxis {
  name: string;
  values: readonly MatrixValue[];
  keyRange: Range;
}

export interface Cell {
  /** name, or name@v1-v2 for foreach stages */
  id: string;
  matrix: Readonly<Record<string, MatrixValue>>;
}

export interface StageDeclaration {
  name: string;
  /** declaration order, for ordering ties */
  index: number;
  keyRange: Range;
  node: MapNode;
  /** `uses:` for kind stages */
  uses?: { value: string; range: Range };
  /** `cmd:` for command stages */
  cmd?: ScalarNode;
  /** foreach axes in the order written (their order builds the ids) */
  axes: readonly string[];
  cells: readonly Cell[];
}

const KIND_ONLY: Record<string, string> = {
  with: 'a cmd stage takes no `with:`; put ${params.KEY} in cmd and list the key in `params:`',
  out: 'a cmd stage lists what it writes in `outs:`, not `out:`',
};

const CMD_ONLY: Record<string, string> = {
  deps: 'a `uses:` stage declares its inputs in `needs:` (its kind reads external files through its `with:` params)',
  params: 'a `uses:` stage gets values through `with:`, e.g. with: { lr: ${params.train.lr} }',
  outs: 'a `uses:` stage writes one directory, set with `out:`',
};

export function readMatrix(node: MapNode | undefined): Map<string, MatrixAxis> {
  const axes = new Map<string, MatrixAxis>();
  if (!node) return axes;
  for (const [name, entry] of node.entries) {
    const values = entry.value.kind === 'seq' ? entry.value.items.map((item) => (item.kind === 'scalar' ? item.value : null)) : [];
    axes.set(name, { name, values: values.filter((v): v is MatrixValue => v !== null), keyRange: entry.keyRange });
  }
  return axes;
}

/** Every combination of the axes' values, the first axis varying slowest. */
function expandCells(name: string, axes: readonly string[], matrix: ReadonlyMap<string, MatrixAxis>): Cell[] {
  if (axes.length === 0) return [{ id: name, matrix: {} }];
  let combos: MatrixValue[][] = [[]];
  for (const axis of axes) {
    const values = matrix.get(axis)?.values ?? [];
    combos = combos.flatMap((combo) => values.map((v) => [...combo, v]));
  }
  return combos.map((combo) => {
    const cellMatrix: Record<string, MatrixValue> = {};
    axes.forEach((axis, i) => {
      cellMatrix[axis] = combo[i] as MatrixValue;
    });
    return { id: `${name}@${combo.map(String).join('-')}`, matrix: cellMatrix };
  });
}

export function declareStages(
  stages: MapNode,
  matrix: ReadonlyMap<string, MatrixAxis>,
  sink: DiagnosticSink,
): StageDeclaration[] {
  const declarations: StageDeclaration[] = [];
  let index = 0;
  for (const [name, entry] of stages.entries) {
    const node = entry.value;
    if (!isMapNode(node)) continue; // the schema has reported it
    const usesEntry = node.entries.get('uses');
    const cmdEntry = node.entries.get('cmd');
    if (!usesEntry && !cmdEntry) {
      sink.error(`stage "${name}" needs either \`uses:\` (a stage kind) or \`cmd:\` (a shell command)`, entry.keyRange);
      continue;
    }
    if (usesEntry && cmdEntry) {
      const later = usesEntry.keyRange.start > cmdEntry.keyRange.start ? usesEntry : cmdEntry;
      sink.error(`stage "${name}" has both \`uses:\` and \`cmd:\`; a stage is either a kind or a command`, later.keyRange);
      continue;
    }
    const misplaced = usesEntry ? CMD_ONLY : KIND_ONLY;
    let ok = true;
    for (const [key, hint] of Object.entries(misplaced)) {
      const bad = node.entries.get(key);
      if (bad) {
        sink.error(`\`${key}:\` is not allowed in ${usesEntry ? 'a `uses:`' : 'a `cmd:`'} stage: ${hint}`, bad.keyRange);
        ok = false;
      }
    }
    const axes = readForeach(name, node, matrix, sink);
    if (!ok || !axes) continue;
    const cells = expandCells(name, axes, matrix);
    if (new Set(cells.map((c) => c.id)).size !== cells.length) {
      const foreach = node.entries.get('foreach');
      sink.error(
        `stage "${name}": two cells get the same id because matrix values contain "-", which joins values in ids`,
        foreach?.value ?? entry.keyRange,
      );
      continue;
    }
    const declaration: StageDeclaration = { name, index: index++, keyRange: entry.keyRange, node, axes, cells };
    if (usesEntry && usesEntry.value.kind === 'scalar') {
      declaration.uses = { value: String(usesEntry.value.value), range: usesEntry.value };
    }
    if (cmdEntry && cmdEntry.value.kind === 'scalar') declaration.cmd = cmdEntry.value;
    declarations.push(declaration);
  }
  return declarations;
}

function readForeach(
  name: string,
  node: MapNode,
  matrix: ReadonlyMap<string, MatrixAxis>,
  sink: DiagnosticSink,
): string[] | undefined {
  const foreach = entryValue(node, 'foreach');
  if (!foreach) return [];
  const items = foreach.kind === 'seq' ? foreach.items : [foreach];
  const axes: string[] = [];
  let ok = true;
  for (const item of items) {
    if (item.kind !== 'scalar') continue;
    const axis = String(item.value);
    if (!matrix.has(axis)) {
      const known = [...matrix.keys()];
      const tail = known.length === 0 ? '; the pipeline declares no `matrix:`' : `${didYouMean(axis, known)}; matrix axes: ${listNames(known)}`;
      sink.error(`stage "${name}" foreach names unknown matrix axis "${axis}"${tail}`, item);
      ok = false;
      continue;
    }
    axes.push(axis);
  }
  return ok ? axes : undefined;
}
