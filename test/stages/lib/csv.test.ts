import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvError, formatNumber, fromCsv, parseCsv, readTable, table, toCsv, writeTable } from '../../../stages/lib/csv.js';
import { DILEMMAS_PER_ROW, KL_SUMMARY, type DilemmasPerRowRow } from '../../../stages/lib/artifacts.js';
import { tempDir } from '../../helpers/temp-dir.js';

const T = table('t.csv', { s: 'string', x: 'number', k: 'integer', b: 'boolean' });

void test('numbers round-trip bit for bit, including edge values', () => {
  const xs = [0, -0, 1, -1, 0.1, 1 / 3, Math.PI, 1e-300, 5e-324, Number.MAX_VALUE, -2.5e21, 123456789.12345679, NaN, Infinity, -Infinity, 0.1 + 0.2];
  const rows = xs.map((x, i) => ({ s: `r${i}`, x, k: i - 3, b: i % 2 === 0 }));
  const back = fromCsv(T, toCsv(T, rows));
  assert.equal(back.length, xs.length);
  back.forEach((r, i) => {
    assert.ok(Object.is(r.x, xs[i]), `row ${i}: ${r.x} vs ${xs[i]}`);
    assert.equal(r.k, i - 3);
    assert.equal(r.b, i % 2 === 0);
  });
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(-Infinity), '-inf');
  assert.equal(formatNumber(-0), '-0');
});

void test('strings with commas, quotes and newlines are quoted per RFC 4180 and read back', () => {
  const nasty = ['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r\nlf', '', ' padded ', 'NaN', 'True'];
  const rows = nasty.map((s, i) => ({ s, x: i, k: i, b: false }));
  const text = toCsv(T, rows);
  assert.match(text, /^s,x,k,b\nplain,0,0,False\n"a,b",1,1,False\n"say ""hi""",2,2,False\n"two\nlines",3,3,False\n/);
  assert.deepEqual(fromCsv(T, text).map((r) => r.s), nasty);
  // CRLF line endings, extra columns, another column order and blank lines are accepted
  const crlf = 'b,extra,k,x,s\r\nTrue,zz,7,2.5,"q,\r\n"\r\n\r\nfalse,,8,,w\r\n';
  assert.deepEqual(fromCsv(T, crlf), [
    { s: 'q,\r\n', x: 2.5, k: 7, b: true },
    { s: 'w', x: NaN, k: 8, b: false },
  ]);
});

void test('pandas spellings are read: empty/nan as NaN, inf, integral floats in integer columns', () => {
  const rows = fromCsv(T, 's,x,k,b\na,nan,3.0,True\nb,-inf,4,False\nc,1e-07,5,true\n');
  assert.ok(Number.isNaN(rows[0]?.x));
  assert.equal(rows[0]?.k, 3);
  assert.equal(rows[1]?.x, -Infinity);
  assert.equal(rows[2]?.x, 1e-7);
});

void test('bad input is rejected with source, line and column', () => {
  assert.throws(() => fromCsv(T, 's,x,k,b\na,1,2,True\nb,one,2,True\n', 'f.csv'), (e: unknown) => e instanceof CsvError && /^f\.csv:3: column x: "one" is not a valid number/.test(e.message));
  assert.throws(() => fromCsv(T, 's,x,k,b\na,1,2.5,True\n', 'f.csv'), /f\.csv:2: column k: "2.5" is not a valid integer/);
  assert.throws(() => fromCsv(T, 's,x,k,b\na,1,2,yes\n', 'f.csv'), /f\.csv:2: column b: "yes" is not a valid boolean/);
  assert.throws(() => fromCsv(T, 's,x,b\na,1,True\n', 'f.csv'), /f\.csv:1: missing column\(s\) "k"/);
  assert.throws(() => fromCsv(T, 's,x,k,b\na,1,2\n', 'f.csv'), /f\.csv:2: expected 4 fields/);
  assert.throws(() => fromCsv(T, 's,x,k,b\n"a\n,1,2,True\n', 'f.csv'), /f\.csv:2: unterminated quoted field/);
  assert.throws(() => fromCsv(T, 's,x,k,b\n"a"b,1,2,True\n', 'f.csv'), /after a closing quote/);
  assert.throws(() => fromCsv(T, 's,x,k,b\na"b,1,2,True\n', 'f.csv'), /quote inside an unquoted field/);
  assert.throws(() => fromCsv(T, ' 1 ', 'f.csv'), /missing column/);
  assert.throws(() => parseCsv('', 'f.csv'), /f\.csv: empty file/);
  assert.throws(() => fromCsv(T, 's,x,k,b\na, 1,2,True\n'), /" 1" is not a valid number/);
  assert.throws(() => fromCsv(T, 's,x,k,b\na,0x10,2,True\n'), /"0x10" is not a valid number/);
  // writer: wrong types name the table, row and column
  assert.throws(() => toCsv(T, [{ s: 'a', x: 1, k: 1.5, b: true }]), /t\.csv row 0 column k: expected an integer, got number 1.5/);
  assert.throws(() => toCsv(T, [{ s: 'a', x: 1, b: true } as never]), /t\.csv row 0 column k: expected an integer, got nothing/);
});

void test('writeTable/readTable use the artifact file name, write atomically and keep column order', () => {
  const dir = tempDir('wsflow-csv-');
  const rows: DilemmasPerRowRow[] = [
    { method: 'dW:delora', coeff: -0.78, idx: 12, dilemma_idx: 6, logratio: 1.25, pmass: 0.93, low_pmass: false, action_type: 'to_do', honesty_label: 1, logratio_honesty: 1.25 },
    { method: 'prompt:base', coeff: 0, idx: 13, dilemma_idx: 6, logratio: -0.5, pmass: 0.004, low_pmass: true, action_type: 'not_to_do', honesty_label: -1, logratio_honesty: 0.5 },
  ];
  const path = writeTable(dir, DILEMMAS_PER_ROW, rows);
  assert.equal(path, join(dir, 'dilemmas_per_row.csv'));
  assert.deepEqual(readdirSync(dir), ['dilemmas_per_row.csv']);
  assert.equal(readFileSync(path, 'utf8').split('\n')[0], 'method,coeff,idx,dilemma_idx,logratio,pmass,low_pmass,action_type,honesty_label,logratio_honesty');
  assert.deepEqual(readTable(dir, DILEMMAS_PER_ROW), rows);
  // a pandas-written summary (index=False) is read
  writeFileSync(join(dir, 'summary.csv'), 'method,calibrated_alpha,p95_at_calib,mean_at_calib,max_at_calib,ratio_at_calib,iterations,converged,target_p95\ndW:delora,0.7812345678901234,0.55,0.1,3.2,0.8947,2,True,0.6147\n');
  const [s] = readTable(dir, KL_SUMMARY);
  assert.equal(s?.calibrated_alpha, 0.7812345678901234);
  assert.equal(s?.converged, true);
});
