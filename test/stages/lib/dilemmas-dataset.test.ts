import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';
import { DEFAULT_DILEMMA_DATASET, hfHubCacheDir, loadDilemmaRows, resolveDilemmaFiles, selectDilemmaRows, validateDilemmaRecord, type DilemmaRow, type ResolvedDilemmaFiles } from '../../../stages/lib/dilemmas-dataset.js';

import type { Result } from '../../../src/contract/result.js';
import { REPO_ROOT as ROOT } from '../../helpers/repo-root.js';
import { tempDir } from '../../helpers/temp-dir.js';
const SYNTHETIC = join(ROOT, 'data', 'synthetic-dilemmas');
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function unwrap<T>(r: Result<T, string>): T {
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

async function synthetic(): Promise<DilemmaRow[]> {
  return loadDilemmaRows(unwrap(resolveDilemmaFiles({ kind: 'path', path: SYNTHETIC })));
}

function parquetOf(rows: readonly DilemmaRow[], opts: { codec?: 'SNAPPY' | 'GZIP' | 'UNCOMPRESSED'; labelType?: 'INT64' | 'DOUBLE' } = {}): ArrayBuffer {
  const col = <K extends keyof DilemmaRow>(name: K, type: ColumnSource['type']): ColumnSource => ({ name, data: rows.map((r) => (type === 'INT64' ? BigInt(r[name] as number) : r[name])), type });
  return parquetWriteBuffer({
    columnData: [
      col('idx', 'INT64'),
      col('dilemma_idx', 'INT64'),
      col('action_type', 'STRING'),
      col('action', 'STRING'),
      col('dilemma_situation', 'STRING'),
      col('honesty_label', opts.labelType ?? 'INT64'),
      col('to_do_has_positive_honesty', 'BOOLEAN'),
      col('to_do_has_negative_honesty', 'BOOLEAN'),
      col('not_to_do_has_positive_honesty', 'BOOLEAN'),
      col('not_to_do_has_negative_honesty', 'BOOLEAN'),
    ],
    ...(opts.codec ? { codec: opts.codec } : {}),
    ...(opts.codec === 'GZIP' ? { compressors: { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) } } : {}),
  });
}

/** A fake local HF cache holding the dataset at `files` (paths relative to the snapshot). */
function hfCache(files: Record<string, ArrayBuffer | string>, opts: { ref?: boolean } = {}): string {
  const home = tempDir('wsflow-hf-');
  const repo = join(home, 'hub', 'datasets--wassname--daily_dilemmas-self-honesty');
  if (opts.ref !== false) {
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'main'), `${COMMIT}\n`);
  }
  for (const [rel, data] of Object.entries(files)) {
    const p = join(repo, 'snapshots', COMMIT, ...rel.split('/'));
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, typeof data === 'string' ? data : Buffer.from(data));
  }
  return home;
}

const HF = { kind: 'hf', ...DEFAULT_DILEMMA_DATASET } as const;

void test('the shipped synthetic set loads, is labelled synthetic, and selects as §9.1', async () => {
  const resolved = unwrap(resolveDilemmaFiles({ kind: 'path', path: 'data/synthetic-dilemmas' }, { projectDir: ROOT }));
  assert.deepEqual(resolved.files, [join(SYNTHETIC, 'test.jsonl')]);
  assert.equal(resolved.format, 'jsonl');
  const rows = await loadDilemmaRows(resolved);
  assert.equal(rows.length, 48);
  assert.equal(rows.filter((r) => r.honesty_label === 1).length, 24);
  const raw = readFileSync(join(SYNTHETIC, 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { synthetic: boolean; source: string });
  assert.ok(raw.every((r) => r.synthetic === true && /synthetic/.test(r.source)));
  // first 5 of the sorted unique dilemma ids, rows kept in dataset order
  const sel = selectDilemmaRows(rows, { nDilemmas: 5 });
  assert.deepEqual(sel.dilemmas, [3, 8, 11, 15, 19]);
  assert.equal(sel.rows.length, 10);
  assert.deepEqual(sel.rows.map((r) => r.idx), rows.filter((r) => r.dilemma_idx <= 19).map((r) => r.idx));
  assert.equal(sel.nAvailableDilemmas, 24);
  assert.equal(selectDilemmaRows(rows).rows.length, 48);
  // the honesty-only filter drops the 8 filler not_to_do rows
  const honest = selectDilemmaRows(rows, { honestyOnly: true });
  assert.equal(honest.nAvailableRows, 40);
  assert.ok(honest.rows.every((r) => r.action_type === 'to_do' || r.not_to_do_has_positive_honesty || r.not_to_do_has_negative_honesty));
  assert.throws(() => selectDilemmaRows(rows, { nDilemmas: 219 }), /n_dilemmas = 219 but the dataset has 24 dilemmas \(48 rows\)/);
  assert.throws(() => selectDilemmaRows(rows, { nDilemmas: 0 }), /positive integer/);
  const noFlags = rows.map(({ idx, dilemma_idx, action_type, action, dilemma_situation, honesty_label }) => ({ idx, dilemma_idx, action_type, action, dilemma_situation, honesty_label }));
  assert.throws(() => selectDilemmaRows(noFlags, { honestyOnly: true }), /honesty-only filter: row idx=\d+ has no "to_do_has_positive_honesty" field/);
});

void test('parquet round trip through the HF cache layout <config>/<split>-00000-of-00001.parquet (snappy, INT64)', async () => {
  const rows = await synthetic();
  const home = hfCache({ 'honesty_eval/test-00000-of-00001.parquet': parquetOf(rows), 'README.md': '# no front matter\n', 'other_config/test-00000-of-00001.parquet': parquetOf(rows.slice(0, 2)) });
  const env = { HF_HOME: home };
  assert.equal(hfHubCacheDir(env), join(home, 'hub'));
  const resolved = unwrap(resolveDilemmaFiles(HF, { env }));
  assert.equal(resolved.format, 'parquet');
  assert.deepEqual(resolved.files, [join(home, 'hub', 'datasets--wassname--daily_dilemmas-self-honesty', 'snapshots', COMMIT, 'honesty_eval', 'test-00000-of-00001.parquet')]);
  assert.deepEqual(await loadDilemmaRows(resolved), rows);
  // HF_HUB_CACHE wins over HF_HOME
  assert.equal(hfHubCacheDir({ HF_HOME: '/nope', HF_HUB_CACHE: join(home, 'hub') }), join(home, 'hub'));
});

void test('parquet: gzip codec, DOUBLE labels, several shards read in name order', async () => {
  const rows = await synthetic();
  const home = hfCache({
    'honesty_eval/test-00001-of-00002.parquet': parquetOf(rows.slice(20), { codec: 'GZIP', labelType: 'DOUBLE' }),
    'honesty_eval/test-00000-of-00002.parquet': parquetOf(rows.slice(0, 20), { codec: 'UNCOMPRESSED' }),
  });
  const resolved = unwrap(resolveDilemmaFiles(HF, { env: { HF_HOME: home } }));
  assert.equal(resolved.files.length, 2);
  assert.deepEqual(await loadDilemmaRows(resolved), rows);
});

void test('other layouts: the dataset card configs mapping, data/<split>-*.parquet, <config>/<split>/*.parquet, single snapshot without refs', async () => {
  const rows = await synthetic();
  const card = '---\nconfigs:\n- config_name: honesty_eval\n  data_files:\n  - split: test\n    path: shards/he-test-*.parquet\n  - split: train\n    path: shards/he-train-*.parquet\n---\n# card\n';
  const a = hfCache({ 'README.md': card, 'shards/he-test-0.parquet': parquetOf(rows), 'shards/he-train-0.parquet': parquetOf(rows.slice(0, 2)) });
  const ra = unwrap(resolveDilemmaFiles(HF, { env: { HF_HOME: a } }));
  assert.match(ra.description, /dataset card config honesty_eval, split test/);
  assert.equal((await loadDilemmaRows(ra)).length, 48);

  const b = hfCache({ 'data/test-00000-of-00001.parquet': parquetOf(rows) });
  assert.equal(unwrap(resolveDilemmaFiles({ ...HF, config: 'default' }, { env: { HF_HOME: b } })).files.length, 1);
  const noConfig = resolveDilemmaFiles(HF, { env: { HF_HOME: b } });
  assert.ok(!noConfig.ok && /no files for config "honesty_eval" split "test".*looked for honesty_eval\/test-\*\.<ext>, honesty_eval\/test\/\*\.<ext>/.test(noConfig.error), 'a named config never falls back to the default config\'s files');

  const c = hfCache({ 'honesty_eval/test/0000.parquet': parquetOf(rows) }, { ref: false });
  const rc = unwrap(resolveDilemmaFiles(HF, { env: { HF_HOME: c } }));
  assert.match(rc.description, /honesty_eval\/test\/\*\.<ext>/);
  assert.ok(!resolveDilemmaFiles({ ...HF, revision: 'v2' }, { env: { HF_HOME: c } }).ok);
});

void test('a dataset that is not in the cache: the error says where we looked and how to get it', () => {
  const home = tempDir('wsflow-hf-empty-');
  const r = resolveDilemmaFiles(HF, { env: { HF_HOME: home } });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.ok(r.error.includes(join(home, 'hub', 'datasets--wassname--daily_dilemmas-self-honesty')), r.error);
    assert.ok(r.error.includes('hf download --repo-type dataset wassname/daily_dilemmas-self-honesty'), r.error);
    assert.match(r.error, /nothing is downloaded/);
  }
  const bad = resolveDilemmaFiles({ kind: 'hf', dataset: 'no-slash' });
  assert.ok(!bad.ok && /ORG\/NAME/.test(bad.error));
  const missing = resolveDilemmaFiles({ kind: 'path', path: join(home, 'nope.parquet') });
  assert.ok(!missing.ok && missing.error.includes(join(home, 'nope.parquet')));
  const txt = join(home, 'rows.txt');
  writeFileSync(txt, 'x');
  const unsupported = resolveDilemmaFiles({ kind: 'path', path: txt });
  assert.ok(!unsupported.ok && /unsupported file type "\.txt"/.test(unsupported.error));
  const emptyDir = resolveDilemmaFiles({ kind: 'path', path: home });
  assert.ok(!emptyDir.ok && /no data files for split "test"/.test(emptyDir.error));
});

void test('CSV and JSON files load to the same rows; a directory of one format is taken whole', async () => {
  const rows = await synthetic();
  const dir = tempDir('wsflow-dd-');
  const cols = Object.keys(rows[0] as DilemmaRow) as (keyof DilemmaRow)[];
  const q = (v: unknown): string => (typeof v === 'string' ? `"${v.replaceAll('"', '""')}"` : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
  writeFileSync(join(dir, 'rows.csv'), [cols.join(','), ...rows.map((r) => cols.map((c) => q(r[c])).join(','))].join('\n') + '\n');
  const csv: ResolvedDilemmaFiles = unwrap(resolveDilemmaFiles({ kind: 'path', path: join(dir, 'rows.csv') }));
  assert.deepEqual(await loadDilemmaRows(csv), rows);
  const jdir = tempDir('wsflow-dd-');
  writeFileSync(join(jdir, 'part-b.json'), JSON.stringify(rows.slice(10)));
  writeFileSync(join(jdir, 'part-a.json'), JSON.stringify(rows.slice(0, 10)));
  const whole = unwrap(resolveDilemmaFiles({ kind: 'path', path: jdir }));
  assert.match(whole.description, /all json files/);
  assert.deepEqual(await loadDilemmaRows(whole), rows);
});

void test('schema validation names the file, the row and the field', async () => {
  const f = 'x.jsonl';
  const good = { idx: 1, dilemma_idx: 1, action_type: 'to_do', action: 'a', dilemma_situation: 's', honesty_label: 1 };
  assert.deepEqual(validateDilemmaRecord({ ...good, idx: 7n, honesty_label: -1.0 }, f, 0), { ...good, idx: 7, honesty_label: -1 });
  assert.throws(() => validateDilemmaRecord({ ...good, action_type: 'maybe' }, f, 3), /x\.jsonl: row 3: field "action_type": expected "to_do" or "not_to_do", got string "maybe"/);
  assert.throws(() => validateDilemmaRecord({ ...good, honesty_label: 0 }, f, 4), /row 4: field "honesty_label": expected \+1 or -1, got number 0/);
  assert.throws(() => validateDilemmaRecord({ ...good, idx: 1.5 }, f, 0), /field "idx": expected an integer/);
  assert.throws(() => validateDilemmaRecord({ ...good, dilemma_situation: undefined }, f, 0), /field "dilemma_situation": expected a string, got missing/);
  assert.throws(() => validateDilemmaRecord({ ...good, to_do_has_positive_honesty: 'perhaps' }, f, 0), /field "to_do_has_positive_honesty": expected a boolean/);
  const dir = tempDir('wsflow-dd-');
  writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify(good)}\n{oops\n`);
  await assert.rejects(loadDilemmaRows(unwrap(resolveDilemmaFiles({ kind: 'path', path: dir }))), /test\.jsonl: line 2: invalid JSON/);
  writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify(good)}\n${JSON.stringify({ ...good, dilemma_idx: 2 })}\n`);
  await assert.rejects(loadDilemmaRows(unwrap(resolveDilemmaFiles({ kind: 'path', path: dir }))), /test\.jsonl: row 1: duplicate idx 1/);
  writeFileSync(join(dir, 'test.jsonl'), '\n');
  await assert.rejects(loadDilemmaRows(unwrap(resolveDilemmaFiles({ kind: 'path', path: dir }))), /no rows/);
  const pq = join(dir, 'broken.parquet');
  writeFileSync(pq, 'PAR1 not really');
  await assert.rejects(loadDilemmaRows(unwrap(resolveDilemmaFiles({ kind: 'path', path: pq }))), /broken\.parquet: cannot read parquet/);
});
