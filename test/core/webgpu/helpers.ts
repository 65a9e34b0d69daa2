/**
 * The webgpu suite runs only where WSFLOW_WEBGPU_TESTS=1 (CI sets it after installing a Vulkan driver Dawn
 * accepts): elsewhere each file skips with the reason. Every read here is asynchronous (webgpu cannot read
 * synchronously in Node).
 */
import * as tf from '@tensorflow/tfjs-core';

export const WEBGPU_SKIP: string | false =
  process.env['WSFLOW_WEBGPU_TESTS'] === '1'
    ? false
    : 'webgpu tests need WSFLOW_WEBGPU_TESTS=1 and a Vulkan/Metal/D3D12 driver Dawn accepts (.ci/run installs Mesa 25 lavapipe)';

/** The tensor's values as a new Float32Array; the tensor is disposed. */
export async function take(t: tf.Tensor): Promise<Float32Array> {
  try {
    return Float32Array.from((await t.data()) as Float32Array);
  } finally {
    t.dispose();
  }
}
