import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createKindResolver, stageKindProblem } from '../../src/pipeline/kind-resolver.js';
import { makeProject, promptKind, testBuiltins } from './helpers.js';

const moduleText = (version: string): string => `export const kind = {
  name: 'local', version: '${version}', description: 'd', paramsSchema: { type: 'object' }, inputs: {}, resources: 'cpu',
  async load() { return { async run() {} }; },
};
`;

void test('built-ins by name, project modules by path (default export or `kind`), re-imported when they change', async () => {
  const project = await makeProject('stages: {}\n', { 'kinds/local.js': moduleText('1.0.0') });
  try {
    const resolve = createKindResolver(testBuiltins);
    const builtin = await resolve('prompt', project.dir);
    assert.ok(builtin.ok);
    assert.equal(builtin.value.kind, promptKind);
    assert.equal(builtin.value.modulePath, undefined);

    const local = await resolve('./kinds/local.js', project.dir);
    assert.ok(local.ok);
    assert.equal(local.value.kind.version, '1.0.0');
    assert.equal(local.value.modulePath, path.join(project.dir, 'kinds', 'local.js'));

    // a long-lived process (wsflow watch) must see the edited module, not Node's cached copy
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(path.join(project.dir, 'kinds', 'local.js'), moduleText('1.0.10'));
    const edited = await resolve('./kinds/local.js', project.dir);
    assert.ok(edited.ok);
    assert.equal(edited.value.kind.version, '1.0.10');

    const writer = await resolve('kinds/writer.js', project.dir);
    assert.ok(writer.ok, 'a path ending in .js is a module even without ./');
    assert.equal(writer.value.kind.name, 'writer');
  } finally {
    await project.cleanup();
  }
});

void test('unusable kinds are explained in one sentence', async () => {
  const project = await makeProject('stages: {}\n', {
    'kinds/none.js': 'export const other = 1;\n',
    'kinds/syntax.js': 'export default {\n',
  });
  try {
    const resolve = createKindResolver(new Map());
    const none = await resolve('./kinds/none.js', project.dir);
    assert.deepEqual(none, { ok: false, error: 'stage kind module ./kinds/none.js exports no stage kind (expected a default export or `export const kind`)' });
    const syntax = await resolve('./kinds/syntax.js', project.dir);
    assert.ok(!syntax.ok);
    assert.match(syntax.error, /^cannot load stage kind module \.\/kinds\/syntax\.js: /);
    const dir = await resolve('./kinds', project.dir);
    assert.ok(!dir.ok);
    assert.match(dir.error, /^stage kind module \.\/kinds is not a file/);
    const unknown = await resolve('train', project.dir);
    assert.deepEqual(unknown, {
      ok: false,
      error: 'unknown stage kind "train"; there are no built-in kinds (a project-local kind is a module path such as ./kinds/train.js)',
    });
  } finally {
    await project.cleanup();
  }
  assert.equal(stageKindProblem(promptKind), undefined);
  assert.equal(stageKindProblem({ ...promptKind, resources: 'gpu' }), '`resources` is neither "accel" nor "cpu"');
  assert.equal(stageKindProblem({ ...promptKind, load: undefined }), 'it has no `load()` function');
});
