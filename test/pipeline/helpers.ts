/** Shared set-up for the pipeline loader tests: real temp projects, real kind modules, the real loader. */
import { cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StageKind, StageContext } from '../../src/contract/stage-kind.js';
import { createKindResolver } from '../../src/pipeline/kind-resolver.js';
import { loadPipeline } from '../../src/pipeline/load-pipeline.js';
import type { PipelineLoadCache } from '../../src/pipeline/load-cache.js';
import type { Diagnostic, Pipeline } from '../../src/pipeline/types.js';
import type { Result } from '../../src/contract/result.js';

import { REPO_ROOT as repoRoot } from '../helpers/repo-root.js';
export { repoRoot };
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');

async function writeOutput(ctx: StageContext, file: string, value: unknown): Promise<void> {
  await writeFile(path.join(ctx.outDir, file), `${JSON.stringify(value)}\n`);
}

/** A built-in-style kind taking a prompt and a temperature; records them (real, if trivial, work). */
export const promptKind: StageKind = {
  name: 'prompt',
  version: '1.0.0',
  description: 'records a prompt',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['anchor'],
    properties: {
      anchor: { type: 'string' },
      temperature: { type: 'number', default: 0.7 },
      layers: { type: 'array', items: { type: 'integer' } },
      sampling: { type: 'object', properties: { top_k: { type: 'integer' } } },
    },
  },
  inputs: { model: { description: 'the model to prompt', optional: true } },
  resources: 'accel',
  load: async () => ({ run: (ctx) => writeOutput(ctx, 'prompt.json', ctx.params) }),
};

/** A kind with a required single input and a multiple input. */
export const reportKind: StageKind = {
  name: 'report',
  version: '2.1.0',
  description: 'collects evaluations',
  paramsSchema: { type: 'object', additionalProperties: false, properties: { title: { type: 'string', default: 'report' } } },
  inputs: {
    baseline: { description: 'the reference evaluation' },
    evals: { description: 'evaluations to compare', multiple: true },
  },
  resources: 'cpu',
  load: async () => ({
    run: (ctx) => writeOutput(ctx, 'report.json', Object.fromEntries(Object.entries(ctx.inputs).map(([k, v]) => [k, v.length]))),
  }),
};

export const testBuiltins: ReadonlyMap<string, StageKind> = new Map([
  ['prompt', promptKind],
  ['report', reportKind],
]);

export interface Project {
  dir: string;
  file: string;
  cleanup(): Promise<void>;
}

/** A temp project holding pipeline.yaml (and any other files), with test/fixtures/kinds copied to kinds/. */
export async function makeProject(yaml: string, files: Record<string, string> = {}): Promise<Project> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wsflow-pipeline-'));
  await cp(path.join(fixturesDir, 'kinds'), path.join(dir, 'kinds'), { recursive: true });
  await writeFile(path.join(dir, 'pipeline.yaml'), yaml);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return { dir, file: path.join(dir, 'pipeline.yaml'), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface LoadOptions {
  profile?: string | null;
  overrides?: string[];
  cache?: PipelineLoadCache | null;
  builtins?: ReadonlyMap<string, StageKind>;
  files?: Record<string, string>;
}

/** Loads `yaml` from a fresh temp project; diagnostics name the file `pipeline.yaml`. */
export async function load(yaml: string, options: LoadOptions = {}): Promise<Result<Pipeline, Diagnostic[]>> {
  const project = await makeProject(yaml, options.files);
  const cwd = process.cwd();
  try {
    // a cwd-relative file name keeps messages as users see them
    process.chdir(project.dir);
    return await loadPipeline({
      file: 'pipeline.yaml',
      profile: options.profile ?? null,
      overrides: options.overrides ?? [],
      resolveKind: createKindResolver(options.builtins ?? testBuiltins),
      cache: options.cache ?? null,
    });
  } finally {
    process.chdir(cwd);
    await project.cleanup();
  }
}

/** The pipeline of a load that must succeed (fails the test with the diagnostics otherwise). */
export async function loadOk(yaml: string, options: LoadOptions = {}): Promise<Pipeline> {
  const result = await load(yaml, options);
  if (!result.ok) throw new Error(`expected the pipeline to load:\n${result.error.map(brief).join('\n')}`);
  return result.value;
}

/** The diagnostics of a load that must fail. */
export async function loadErrors(yaml: string, options: LoadOptions = {}): Promise<Diagnostic[]> {
  const result = await load(yaml, options);
  if (result.ok) throw new Error('expected the pipeline to be rejected');
  return result.error;
}

/** `LINE:COL message` of a diagnostic, the compact form the tests compare. */
export function brief(d: Diagnostic): string {
  return d.span ? `${d.span.line}:${d.span.col} ${d.message}` : d.message;
}

/** The text a span covers, read back from the YAML the test wrote. */
export function spanText(yaml: string, d: Diagnostic): string {
  return d.span ? yaml.slice(d.span.offset, d.span.offset + d.span.length) : '';
}
