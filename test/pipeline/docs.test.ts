/**
 * docs/pipeline-yaml.md's reference table against schema/pipeline.schema.json: every key the schema accepts is
 * documented, and the table documents no key the schema lacks.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers.js';

type Schema = { [key: string]: unknown };

/** Key paths of the schema, `*` standing for a name chosen by the user (additionalProperties). */
function schemaPaths(schema: Schema): Set<string> {
  const definitions = (schema['definitions'] ?? {}) as Record<string, Schema>;
  const expanded = new Set<string>();
  const paths = new Set<string>();
  const walk = (node: Schema, at: string): void => {
    const ref = node['$ref'];
    if (typeof ref === 'string') {
      const name = ref.replace('#/definitions/', '');
      // a definition used in two places is documented once, where it first appears
      if (expanded.has(name)) return;
      expanded.add(name);
      const target = definitions[name];
      if (target) walk(target, at);
      return;
    }
    for (const [key, child] of Object.entries((node['properties'] ?? {}) as Record<string, Schema>)) {
      const keyPath = at === '' ? key : `${at}.${key}`;
      paths.add(keyPath);
      walk(child, keyPath);
    }
    const additional = node['additionalProperties'];
    if (additional !== undefined && additional !== false && typeof additional === 'object') {
      const keyPath = `${at}.*`;
      paths.add(keyPath);
      walk(additional as Schema, keyPath);
    }
  };
  walk(schema, '');
  return paths;
}

/** Key paths in the first column of the Reference section's table, `<placeholder>` read as `*`. */
function documentedPaths(markdown: string): Set<string> {
  const section = markdown.split(/^## Reference$/m)[1]?.split(/^## /m)[0] ?? '';
  const paths = new Set<string>();
  for (const match of section.matchAll(/^\| `([^`]+)` \|/gm)) paths.add((match[1] ?? '').replace(/<[a-z]+>/g, '*'));
  return paths;
}

void test('every key of the pipeline schema is in the reference table of docs/pipeline-yaml.md, and nothing else is', async () => {
  const schema = JSON.parse(await readFile(path.join(repoRoot, 'schema', 'pipeline.schema.json'), 'utf8')) as Schema;
  const documented = documentedPaths(await readFile(path.join(repoRoot, 'docs', 'pipeline-yaml.md'), 'utf8'));
  const accepted = schemaPaths(schema);
  assert.ok(accepted.size > 30, `the schema walk found only ${accepted.size} keys`);
  assert.deepEqual([...accepted].filter((p) => !documented.has(p)), [], 'schema keys missing from the reference');
  assert.deepEqual([...documented].filter((p) => !accepted.has(p)), [], 'documented keys the schema does not accept');
});
