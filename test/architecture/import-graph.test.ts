/**
 * The house rules of DESIGN.md ("Top level": folders and the arrows between them), checked on the source's
 * import graph. Every arrow between areas that is not listed in ALLOWED fails, naming the file and the import.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importGraph, REPO_ROOT, type ImportEdge } from '../helpers/import-graph.js';

/**
 * The area a file belongs to: a top-level folder of src/, the kind registry, a kind (any folder directly under
 * stages/ except lib), or the stage libraries.
 */
function areaOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'src') return `src/${parts[1] ?? ''}`;
  if (parts[0] === 'stages') {
    if (parts.length === 2) return 'stages/index';
    return parts[1] === 'lib' ? 'stages/lib' : 'kind';
  }
  return parts[0] ?? file;
}

/**
 * Which areas each area may import (besides itself). `cli → engine → pipeline`, all three → contract (which also
 * holds the repository's one Result and the stage Failure); the engine
 * knows nothing about ML (no core) and the loader nothing about the engine; core knows nothing about pipelines or
 * stages; the contract imports nothing. Kinds and stage libraries compute with core and speak the contract.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  'src/contract': [],
  'src/core': ['src/contract'],
  'src/pipeline': ['src/contract'],
  'src/engine': ['src/contract', 'src/pipeline'],
  'src/cli': ['src/contract', 'src/engine', 'src/pipeline', 'src/core', 'stages/index'],
  'stages/index': ['src/contract', 'kind'],
  'stages/lib': ['src/contract', 'src/core'],
  kind: ['src/contract', 'src/core', 'stages/lib'],
};

/** What core may use of the contract: the repository's one Result (src/contract/result.ts), nothing about stages. */
const CORE_MAY_IMPORT: ReadonlySet<string> = new Set(['src/contract/result.ts']);

/**
 * Arrows that exist today and break the rules above, each to be removed by the step named beside it. Empty: the
 * pipeline ⇄ engine cycle (src/pipeline → src/engine/stage-kind.ts) ended when the contract moved to src/contract.
 * An entry is "from-file -> to-file".
 */
const KNOWN_VIOLATIONS: ReadonlySet<string> = new Set<string>([]);

const edges = importGraph(['src', 'stages']);
const describe = (e: ImportEdge): string => `${e.from} imports ${e.specifier} (${e.to})`;

void test('the graph is read: src/ and stages/ have imports, and every area is known', () => {
  assert.ok(edges.length > 300, `only ${edges.length} imports found`);
  const srcAreas = readdirSync(join(REPO_ROOT, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `src/${e.name}`);
  for (const a of srcAreas) assert.ok(a in ALLOWED, `src folder ${a} has no rule in ALLOWED: add one (and to DESIGN.md)`);
});

/** Whether an import breaks the house rules (and is not a known violation). */
function forbidden(e: Pick<ImportEdge, 'from' | 'to'>): boolean {
  const from = areaOf(e.from);
  const to = areaOf(e.to);
  if (KNOWN_VIOLATIONS.has(`${e.from} -> ${e.to}`)) return false;
  if (from === 'kind' && to === 'kind') return e.from.split('/')[1] !== e.to.split('/')[1];
  if (from === to) return false;
  if (from === 'src/core' && to === 'src/contract') return !CORE_MAY_IMPORT.has(e.to);
  return !(ALLOWED[from] ?? []).includes(to);
}

void test('no import crosses areas against the house rules', () => {
  assert.deepEqual(edges.filter(forbidden).map(describe), []);
});

void test('a kind imports no other kind; the registry imports only kinds\u2019 index.ts', () => {
  const crossKind = edges.filter((e) => areaOf(e.from) === 'kind' && areaOf(e.to) === 'kind' && e.from.split('/')[1] !== e.to.split('/')[1]);
  assert.deepEqual(crossKind.map(describe), []);
  const registry = edges.filter((e) => e.from === 'stages/index.ts' && areaOf(e.to) === 'kind' && !/^stages\/[^/]+\/index\.ts$/.test(e.to));
  assert.deepEqual(registry.map(describe), []);
});

void test("no file of a kind imports its own index.ts (name and version reach the stage through ctx.kind)", () => {
  const selfIndex = edges.filter((e) => areaOf(e.from) === 'kind' && e.to === `stages/${e.from.split('/')[1] ?? ''}/index.ts`);
  assert.deepEqual(selfIndex.map(describe), []);
});

void test('the contract imports only itself; core nothing from pipeline, engine, cli or stages, of the contract only Result', () => {
  const contract = edges.filter((e) => areaOf(e.from) === 'src/contract' && areaOf(e.to) !== 'src/contract');
  assert.deepEqual(contract.map(describe), []);
  const core = edges.filter((e) => areaOf(e.from) === 'src/core' && areaOf(e.to) !== 'src/core' && !CORE_MAY_IMPORT.has(e.to));
  assert.deepEqual(core.map(describe), []);
});

void test('no import between src/pipeline and src/engine except engine → pipeline (cli → engine → pipeline)', () => {
  const pipelineToEngine = edges.filter((e) => areaOf(e.from) === 'src/pipeline' && areaOf(e.to) === 'src/engine');
  assert.deepEqual(pipelineToEngine.map(describe), []);
});

void test('the checker flags each kind of forbidden arrow', () => {
  const arrows: [string, string, boolean][] = [
    ['src/pipeline/types.ts', 'src/engine/events.ts', true],
    ['src/engine/project.ts', 'src/pipeline/types.ts', false],
    ['src/engine/project.ts', 'src/core/backend.ts', true],
    ['src/contract/stage-kind.ts', 'src/core/backend.ts', true],
    ['src/core/model-dir.ts', 'src/contract/result.ts', false],
    ['src/core/model-dir.ts', 'src/contract/stage-kind.ts', true],
    ['src/core/backend.ts', 'stages/lib/csv.ts', true],
    ['stages/train/train-stage.ts', 'stages/data/generate-pairs.ts', true],
    ['stages/train/train-stage.ts', 'stages/lib/pairs.ts', false],
    ['stages/lib/pairs.ts', 'stages/data/index.ts', true],
    ['stages/lib/pairs.ts', 'src/engine/events.ts', true],
    ['stages/repe/repe-stage.ts', 'stages/repe/pca.ts', false],
    ['src/cli/main.ts', 'stages/index.ts', false],
    ['src/cli/main.ts', 'stages/train/index.ts', true],
  ];
  for (const [from, to, bad] of arrows) assert.equal(forbidden({ from, to }), bad, `${from} -> ${to}`);
});

/**
 * Inside the engine, folders form layers, lowest first; a folder imports only folders below it (DESIGN.md, "Top
 * level"). `root` is the files directly in src/engine (events.ts, project.ts). This rules out, among others, the
 * arrows that once made cycles: plan → exec (a stage's status needs lease liveness: state/leases.ts), cas ⇄ exec
 * (process liveness: util/process-util.ts), keys ⇄ state (the hash cache speaks to SQLite itself) and
 * root ⇄ plan (faults and crash points are util/, below everything).
 */
const ENGINE_LAYERS: readonly string[] = ['util', 'keys', 'state', 'cas', 'plan', 'exec', 'root', 'lock', 'remote', 'run', 'api', 'worker'];

function engineFolderOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'src' || parts[1] !== 'engine') return undefined;
  return parts.length === 3 ? 'root' : parts[2];
}

/** Whether an import inside the engine goes sideways or up a layer. */
function engineArrowForbidden(e: Pick<ImportEdge, 'from' | 'to'>): boolean {
  const from = engineFolderOf(e.from);
  const to = engineFolderOf(e.to);
  if (from === undefined || to === undefined || from === to) return false;
  return !(ENGINE_LAYERS.indexOf(to) < ENGINE_LAYERS.indexOf(from));
}

void test('every folder of src/engine has a layer', () => {
  const folders = readdirSync(join(REPO_ROOT, 'src', 'engine'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const f of folders) assert.ok(ENGINE_LAYERS.includes(f), `src/engine/${f} has no place in ENGINE_LAYERS: add it (and to DESIGN.md)`);
});

void test('inside the engine every import goes down a layer (no plan → exec, cas ⇄ exec, keys ⇄ state, root ⇄ plan)', () => {
  assert.deepEqual(edges.filter(engineArrowForbidden).map(describe), []);
});

void test('the engine layer check flags the arrows that once made cycles', () => {
  const arrows: [string, string, boolean][] = [
    ['src/engine/plan/stage-status.ts', 'src/engine/exec/local-executor.ts', true],
    ['src/engine/cas/cache-store.ts', 'src/engine/exec/local-executor.ts', true],
    ['src/engine/exec/slurm/slurm-executor.ts', 'src/engine/cas/cache-store.ts', false],
    ['src/engine/keys/file-hasher.ts', 'src/engine/state/state-db.ts', true],
    ['src/engine/state/state-store.ts', 'src/engine/keys/hashing.ts', false],
    ['src/engine/plan/reasons.ts', 'src/engine/events.ts', true],
    ['src/engine/events.ts', 'src/engine/plan/reasons.ts', false],
    ['src/engine/state/state-db.ts', 'src/engine/util/faults.ts', false],
    ['src/engine/util/faults.ts', 'src/engine/state/state-db.ts', true],
    ['src/engine/run/run-pipeline.ts', 'src/engine/api/status-report.ts', true],
  ];
  for (const [from, to, bad] of arrows) assert.equal(engineArrowForbidden({ from, to }), bad, `${from} -> ${to}`);
});

