/**
 * `params:` may not define one dotted path twice. `${params.a.b}` and `-S a.b=…` read the path a → b, so a key
 * written `a.b: 1` next to `a: { b: 2 }` would be shadowed without a word (and which one a reader means is a guess).
 * A key containing dots is otherwise allowed: a subtree such as `lrs: { "0.1": … }` is still passed whole.
 */
import type { DiagnosticSink } from './diagnostics.js';
import type { Range, SourceNode } from './source-tree.js';

/** Reports every dotted path of the params tree that is defined a second time, at the later definition. */
export function checkParamPaths(params: SourceNode, sink: DiagnosticSink): void {
  const seen = new Map<string, Range>();
  const define = (path: string, at: Range): void => {
    const first = seen.get(path);
    if (!first) {
      seen.set(path, at);
      return;
    }
    const [earlier, later] = first.start <= at.start ? [first, at] : [at, first];
    sink.error(`params define "${path}" twice: \${params.${path}} and -S ${path}=… could mean either`, later, [
      { message: `"${path}" is first defined here`, at: earlier },
    ]);
  };
  const walk = (node: SourceNode, prefix: string): void => {
    if (node.kind === 'map') {
      for (const [key, entry] of node.entries) {
        const path = prefix === '' ? key : `${prefix}.${key}`;
        define(path, entry.keyRange);
        walk(entry.value, path);
      }
    } else if (node.kind === 'seq') {
      node.items.forEach((item, i) => {
        const path = `${prefix}.${i}`;
        define(path, item);
        walk(item, path);
      });
    }
  };
  walk(params, '');
}
