import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createKindResolver } from '../../src/pipeline/kind-resolver.js';
import { directoryLoadCache } from '../../src/pipeline/load-cache.js';
import type { PipelineLoadCache } from '../../src/pipeline/load-cache.js';
import { loadPipeline } from '../../src/pipeline/load-pipeline.js';
import type { Pipeline } from '../../src/pipeline/types.js';
import { makeProject, promptKind, testBuiltins } from './helpers.js';

const yaml = `params: { anchor: hi, unused: 1 }
matrix: { adapter: [lora, dora] }
stages:
  ask:
    uses: prompt
    foreach: adapter
    with: { anchor: "\${params.anchor} \${matrix.adapter}" }
  local:
    uses: ./kinds/writer.js
    needs: { source: ask@* }
    with: { message: m }
profiles:
  one: { matrix: { adapter: [lora] } }
`;

/** A cache that counts what it is asked, over a real directory cache. */
function countingCache(dir: string): PipelineLoadCache & { hits: number; sets: number } {
  const inner = directoryLoadCache(dir);
  const cache = {
    hits: 0,
    sets: 0,
    get(key: string) {
      const value = inner.get(key);
      if (value !== undefined) cache.hits++;
      return value;
    },
    set(key: string, value: string) {
      cache.sets++;
      inner.set(key, value);
    },
  };
  return cache;
}

function comparable(p: Pipeline): unknown {
  return { ...p, stages: [...p.stages.entries()], kinds: [...p.kinds.keys()] };
}

void test('a second load of the same file is answered from the cache and equals a fresh load', async () => {
  const project = await makeProject(yaml);
  try {
    const cache = countingCache(path.join(project.dir, '.wsflow', 'pipeline-cache'));
    const resolveKind = createKindResolver(testBuiltins);
    const first = await loadPipeline({ file: project.file, resolveKind, cache });
    assert.ok(first.ok);
    assert.equal(cache.sets, 1);
    const second = await loadPipeline({ file: project.file, resolveKind, cache });
    assert.ok(second.ok);
    assert.equal(cache.hits, 1);
    assert.equal(cache.sets, 1);
    assert.deepEqual(comparable(second.value), comparable(first.value));
    assert.equal(second.value.kinds.get('prompt'), promptKind);
    assert.equal(second.value.warnings.length, 1);

    // another profile, other overrides, other bytes: other entries
    assert.ok((await loadPipeline({ file: project.file, resolveKind, cache, profile: 'one' })).ok);
    assert.ok((await loadPipeline({ file: project.file, resolveKind, cache, overrides: ['anchor=yo'] })).ok);
    assert.equal(cache.hits, 1);
    await writeFile(project.file, yaml.replace('anchor: hi', 'anchor: ho'));
    const edited = await loadPipeline({ file: project.file, resolveKind, cache });
    assert.ok(edited.ok);
    assert.equal(edited.value.stages.get('ask@lora')?.params['anchor'], 'ho lora');
    assert.equal(cache.hits, 1);
    assert.equal((await readdir(path.join(project.dir, '.wsflow', 'pipeline-cache'))).length, 4);
  } finally {
    await project.cleanup();
  }
});

void test('a changed kind (schema or version) or a damaged entry is not trusted', async () => {
  const project = await makeProject(yaml);
  try {
    const dir = path.join(project.dir, '.wsflow', 'pipeline-cache');
    const cache = countingCache(dir);
    assert.ok((await loadPipeline({ file: project.file, resolveKind: createKindResolver(testBuiltins), cache })).ok);
    const stricter = { ...promptKind, paramsSchema: { ...promptKind.paramsSchema, properties: { anchor: { type: 'string', maxLength: 2 } } } };
    const changed = await loadPipeline({ file: project.file, resolveKind: createKindResolver(new Map([['prompt', stricter]])), cache });
    assert.equal(cache.hits, 1); // the entry was read, then rejected because the kind differs
    assert.ok(!changed.ok);
    assert.match(changed.error[0]?.message ?? '', /stages\.ask\.with\.anchor must NOT have more than 2 characters/);

    const [entry] = await readdir(dir);
    assert.ok(entry);
    const text = await readFile(path.join(dir, entry), 'utf8');
    await writeFile(path.join(dir, entry), text.slice(0, text.length / 2));
    const afterDamage = await loadPipeline({ file: project.file, resolveKind: createKindResolver(testBuiltins), cache });
    assert.ok(afterDamage.ok);
    assert.equal(afterDamage.value.stages.size, 3);
  } finally {
    await project.cleanup();
  }
});

void test('an invalid pipeline is never cached; a missing file is one clear error', async () => {
  const project = await makeProject('stages:\n  a: { uses: nope }\n');
  try {
    const cache = countingCache(path.join(project.dir, '.wsflow', 'pipeline-cache'));
    const result = await loadPipeline({ file: project.file, resolveKind: createKindResolver(testBuiltins), cache });
    assert.ok(!result.ok);
    assert.equal(cache.sets, 0);
    const missing = await loadPipeline({ file: path.join(project.dir, 'nope.yaml'), resolveKind: createKindResolver(testBuiltins) });
    assert.ok(!missing.ok);
    assert.deepEqual(missing.error, [{ severity: 'error', message: `cannot read ${path.join(project.dir, 'nope.yaml')}: no such file` }]);
  } finally {
    await project.cleanup();
  }
});
