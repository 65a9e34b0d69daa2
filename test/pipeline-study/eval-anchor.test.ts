/**
 * pipeline.yaml leaves the daily-dilemmas anchor (and user template) to the prompt format: `-S eval.format=f2`
 * scores after f2's anchor, not after f1's "My choice: **" carried over (issue 13, item 8). Loads the study's own
 * pipeline.yaml with the built-in kinds and reads what the evaluation stages would receive.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseParams } from '../../src/contract/params.js';
import { createKindResolver } from '../../src/pipeline/kind-resolver.js';
import { loadPipeline } from '../../src/pipeline/load-pipeline.js';
import { builtinKinds } from '../../stages/index.js';
import { evalDilemmasParams } from '../../stages/eval-dilemmas/params.js';
import { DD_FORMATS } from '../../stages/lib/prompts.js';
import { parseDilemmaParams } from '../../stages/lib/steer/dilemma-params.js';

import { REPO_ROOT } from '../helpers/repo-root.js';

/** The prompt format each evaluation stage of the smoke study would score with, under the given -S overrides. */
async function evalFormats(overrides: string[]): Promise<Map<string, { instruction: string; anchor: string }>> {
  const loaded = await loadPipeline({ file: join(REPO_ROOT, 'pipeline.yaml'), profile: 'smoke', overrides, resolveKind: createKindResolver(builtinKinds), cache: null });
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.error.map((d) => d.message)));
  const out = new Map<string, { instruction: string; anchor: string }>();
  for (const [id, stage] of loaded.value.stages) {
    if (stage.source.type !== 'kind' || stage.source.uses !== 'eval-dilemmas') continue;
    const parsed = parseParams(evalDilemmasParams, stage.params);
    assert.ok(parsed.ok, id);
    out.set(id, parseDilemmaParams(parsed.value).format);
  }
  assert.ok(out.size >= 4, `only ${out.size} eval-dilemmas stages`);
  return out;
}

void test("pipeline.yaml: each format scores after its own anchor; -S eval.anchor still overrides it", async () => {
  for (const [id, format] of await evalFormats([])) assert.deepEqual(format, DD_FORMATS.f1, id);
  for (const [id, format] of await evalFormats(['eval.format=f2'])) assert.deepEqual(format, DD_FORMATS.f2, id);
  for (const [id, format] of await evalFormats(['eval.format=f2', 'eval.anchor=Answer:'])) assert.deepEqual(format, { instruction: DD_FORMATS.f2.instruction, anchor: 'Answer:' }, id);
});
