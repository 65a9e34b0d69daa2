/**
 * The golden suite on the webgpu backend (forced, so a software adapter such as CI's llvmpipe counts): tiny
 * Qwen3 logits and padded batches, the six PEFT directories, training gradients and one optimizer step, with
 * the tolerances of the wasm/cpu suites. One test, so that without WSFLOW_WEBGPU_TESTS=1 it skips in one line.
 */
import { test } from 'node:test';
import { adaptersSuite } from './adapters-suite.js';
import { goldenSuite } from './golden-suite.js';
import { WEBGPU_SKIP } from './helpers.js';
import { trainingSuite } from './training-suite.js';

void test('golden suite on webgpu', { skip: WEBGPU_SKIP }, async (t) => {
  await t.test('qwen3-tiny golden logits and padded batches', goldenSuite);
  await t.test('PEFT adapter directories on qwen3-tiny', adaptersSuite);
  await t.test('training matches cpu: gradients of every adapter type, one optimizer step', trainingSuite);
});
