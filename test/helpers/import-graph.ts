/**
 * The repository's TypeScript import graph, read from source (not dist): static imports, re-exports and dynamic
 * `import('./x.js')` with a literal specifier. Only relative specifiers are followed (packages and node: builtins
 * are outside the repository). Used by the architecture test (forbidden arrows) and the codePaths test.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** repository root (this file runs from dist/test/helpers) */
import { REPO_ROOT } from './repo-root.js';
export { REPO_ROOT };

export interface ImportEdge {
  /** the importing file, repository-relative with forward slashes, e.g. "stages/diff/diff-stage.ts" */
  from: string;
  /** the imported file, same form */
  to: string;
  /** the specifier as written */
  specifier: string;
}

/** Repository-relative path with forward slashes. */
export function repoPath(abs: string): string {
  return relative(REPO_ROOT, abs).split(sep).join('/');
}

/** Every .ts file (not .d.ts) under the given repository-relative folders. */
export function sourceFiles(folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(repoPath(p));
    }
  };
  for (const f of folders) walk(join(REPO_ROOT, f));
  return out.sort();
}

function resolveSpecifier(fromAbs: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromAbs), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts'), base]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** The relative imports of one file; a specifier that resolves to no file is an error (the build would fail too). */
export function importsOf(file: string): ImportEdge[] {
  const abs = join(REPO_ROOT, file);
  const info = ts.preProcessFile(readFileSync(abs, 'utf8'), true, true);
  const edges: ImportEdge[] = [];
  for (const ref of info.importedFiles) {
    const specifier = ref.fileName;
    if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;
    const target = resolveSpecifier(abs, specifier);
    if (target === undefined) throw new Error(`${file}: import ${JSON.stringify(specifier)} resolves to no file`);
    edges.push({ from: file, to: repoPath(target), specifier });
  }
  return edges;
}

/** All edges out of the files under the given folders. */
export function importGraph(folders: readonly string[]): ImportEdge[] {
  return sourceFiles(folders).flatMap(importsOf);
}

/** Every repository file reachable from `entry` (itself included), following relative imports. */
export function transitiveImports(entry: string): Set<string> {
  const seen = new Set<string>([entry]);
  const stack = [entry];
  for (let f = stack.pop(); f !== undefined; f = stack.pop()) {
    for (const e of importsOf(f)) {
      if (!seen.has(e.to)) {
        seen.add(e.to);
        stack.push(e.to);
      }
    }
  }
  return seen;
}
