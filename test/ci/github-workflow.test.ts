/**
 * The GitHub Actions workflow shipped for users (.github/workflows/) is a valid workflow: checked with ajv against
 * GitHub's own workflow schema (test/fixtures/github-workflow, vendored from @actions/workflow-parser), translated
 * from GitHub's template-schema format to JSON Schema here. A misspelt key or a job without `runs-on` is rejected,
 * so the check is not vacuous. It also caches the directory remote wsflow.config.yaml declares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');

type TemplateRef = string | { type: string; required?: boolean };
interface TemplateDefinition {
  mapping?: { properties?: Record<string, TemplateRef>; 'loose-key-type'?: string; 'loose-value-type'?: string };
  sequence?: { 'item-type': string };
  'one-of'?: string[];
  string?: { constant?: string; 'require-non-empty'?: boolean };
  'allowed-values'?: string[];
  null?: object;
  boolean?: object;
  number?: object;
}

const BUILTIN: Record<string, object> = {
  any: {},
  string: { type: 'string' },
  boolean: { type: 'boolean' },
  number: { type: 'number' },
  null: { type: 'null' },
  sequence: { type: 'array' },
  mapping: { type: 'object' },
};

const refName = (r: TemplateRef): string => (typeof r === 'string' ? r : r.type);
const ref = (name: string): object => (BUILTIN[name] ?? { $ref: `#/definitions/${name}` });

/** One template definition as JSON Schema (GitHub's parser accepts a value if any branch of a one-of does). */
function translate(d: TemplateDefinition): object {
  if (d.mapping) {
    const properties: Record<string, object> = {};
    const required: string[] = [];
    for (const [k, v] of Object.entries(d.mapping.properties ?? {})) {
      properties[k] = ref(refName(v));
      if (typeof v !== 'string' && v.required) required.push(k);
    }
    const loose = d.mapping['loose-value-type'];
    return { type: 'object', properties, required, additionalProperties: loose ? ref(loose) : false };
  }
  if (d.sequence) return { type: 'array', items: ref(d.sequence['item-type']) };
  if (d['one-of']) return { anyOf: d['one-of'].map(ref) };
  if (d['allowed-values']) return { enum: d['allowed-values'] };
  if (d.string) {
    if (d.string.constant !== undefined) return { const: d.string.constant };
    return d.string['require-non-empty'] ? { type: 'string', minLength: 1 } : { type: 'string' };
  }
  if (d.null) return { type: 'null' };
  if (d.boolean) return { type: 'boolean' };
  if (d.number) return { type: 'number' };
  throw new Error(`unhandled template definition ${JSON.stringify(d).slice(0, 200)}`);
}

function workflowValidator(): ValidateFunction {
  const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'github-workflow', 'workflow-v1.0.json'), 'utf8')) as {
    definitions: Record<string, TemplateDefinition>;
  };
  const definitions: Record<string, object> = {};
  for (const [name, d] of Object.entries(schema.definitions)) definitions[name] = translate(d);
  const ajv = new Ajv({ allErrors: false, strict: false });
  return ajv.compile({ definitions, $ref: '#/definitions/workflow-root-strict' });
}

const validate = workflowValidator();

function errorsOf(doc: unknown): string {
  return validate(doc) ? '' : JSON.stringify(validate.errors?.slice(0, 3));
}

void test('every workflow in .github/workflows is valid against GitHub\'s workflow schema', () => {
  const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.length > 0);
  for (const f of files) {
    const doc: unknown = parse(readFileSync(join(WORKFLOWS, f), 'utf8'));
    assert.equal(errorsOf(doc), '', `${f} is not a valid workflow`);
  }
});

void test('the validator rejects what GitHub would: a misspelt key, a job without runs-on, a bad event', () => {
  const doc = parse(readFileSync(join(WORKFLOWS, 'wsflow-smoke.yml'), 'utf8')) as { jobs: { smoke: Record<string, unknown> }; on: Record<string, unknown> };
  const clone = (): typeof doc => structuredClone(doc);
  const misspelt = clone();
  misspelt.jobs.smoke['run-on'] = misspelt.jobs.smoke['runs-on'];
  delete misspelt.jobs.smoke['runs-on'];
  assert.notEqual(errorsOf(misspelt), '');
  const noRunner = clone();
  delete noRunner.jobs.smoke['runs-on'];
  assert.notEqual(errorsOf(noRunner), '');
  const badEvent = clone();
  badEvent.on['pushh'] = null;
  assert.notEqual(errorsOf(badEvent), '');
});

void test('the workflow caches the directory remote that wsflow.config.yaml declares, and runs with --pull then push', () => {
  const text = readFileSync(join(WORKFLOWS, 'wsflow-smoke.yml'), 'utf8');
  const config = parse(readFileSync(join(REPO_ROOT, 'wsflow.config.yaml'), 'utf8')) as { default_remote: string; remotes: Record<string, { url: string }> };
  const remoteDir = config.remotes[config.default_remote]?.url;
  assert.equal(remoteDir, '.wsflow-remote');
  const doc = parse(text) as { jobs: { smoke: { steps: { uses?: string; run?: string; with?: Record<string, string> }[] } } };
  const steps = doc.jobs.smoke.steps;
  const cache = steps.findIndex((s) => s.uses?.startsWith('actions/cache@') && s.with?.['path'] === remoteDir);
  const run = steps.findIndex((s) => s.run?.includes('wsflow run') && s.run.includes('--pull'));
  const push = steps.findIndex((s) => s.run?.includes('wsflow push'));
  assert.ok(cache >= 0 && cache < run && run < push, `cache ${cache}, run --pull ${run}, push ${push}`);
});
