/**
 * The `dilemmas` stage: resolve, load, validate and select the rows; write rows.jsonl (dataset order) and
 * dilemmas_info.json (where they came from, their fingerprint, whether the set is the shipped synthetic one).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { loadDilemmaRows, resolveDilemmaFiles, selectDilemmaRows, type ResolvedDilemmaFiles } from '../lib/dilemmas-dataset.js';
import { writeStageProvenance } from '../lib/provenance.js';
import { DILEMMA_ROWS_FILE, DILEMMAS_INFO_FILE } from '../lib/read-dilemmas.js';
import { datasetSource } from './dataset-source.js';
import type { DilemmasParams } from './params.js';
import type { DilemmasInfo } from '../lib/read-dilemmas.js';

/** The shipped synthetic set marks every record `"synthetic": true` (JSON/JSONL); the loader ignores the field. */
function isSynthetic(resolved: ResolvedDilemmaFiles): boolean {
  if (resolved.format !== 'jsonl' && resolved.format !== 'json') return false;
  for (const f of resolved.files) {
    const text = readFileSync(f, 'utf8');
    const records: unknown[] = resolved.format === 'json' ? (JSON.parse(text) as unknown[]) : text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
    if (records.some((r) => (r as { synthetic?: unknown } | null)?.synthetic === true)) return true;
  }
  return false;
}

async function run(ctx: KindContext<DilemmasParams>): Promise<void> {
  const { source, label } = datasetSource(ctx.params.dataset);
  const resolved = resolveDilemmaFiles(source, { projectDir: ctx.projectDir });
  if (!resolved.ok) throw new Error(resolved.error);
  const rows = await loadDilemmaRows(resolved.value);
  const n = ctx.params.n_dilemmas;
  const sel = selectDilemmaRows(rows, { ...(n === null ? {} : { nDilemmas: n }), honestyOnly: ctx.params.honesty_only });
  const h = createHash('sha256');
  for (const f of resolved.value.files) h.update(readFileSync(f));
  const synthetic = isSynthetic(resolved.value);
  const info: DilemmasInfo = {
    dataset: label,
    // relative to where they were found: an absolute path would differ between machines and break downstream keys
    files: resolved.value.files.map((f) => relative(resolved.value.root, f)),
    revision: resolved.value.revision ?? null,
    format: resolved.value.format,
    description: resolved.value.description,
    fingerprint: h.digest('hex'),
    synthetic,
    n_rows: sel.rows.length,
    n_dilemmas: sel.dilemmas.length,
    n_available_rows: sel.nAvailableRows,
    n_available_dilemmas: sel.nAvailableDilemmas,
    honesty_only: ctx.params.honesty_only,
  };
  writeFileSync(join(ctx.outDir, DILEMMA_ROWS_FILE), sel.rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(ctx.outDir, DILEMMAS_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  ctx.log(`${label}: ${sel.rows.length} rows of ${sel.dilemmas.length} dilemmas (of ${sel.nAvailableDilemmas})${synthetic ? ' — SYNTHETIC rows, not the real dataset' : ''}`);
  ctx.metric('n_rows', sel.rows.length);
  ctx.metric('n_dilemmas', sel.dilemmas.length);
  writeStageProvenance(ctx, {
    kind: ctx.kind.name,
    version: ctx.kind.version,
    model: null,
    model_fingerprint: null,
    model_random: false,
    dataset: label,
    dataset_fingerprint: info.fingerprint,
    dataset_synthetic: synthetic,
    backend: null,
  });
}

export const dilemmasImplementation: KindImplementation<DilemmasParams> = { run };
