/**
 * A steering method as the evaluation and calibration stages see it: its name (`dW:<adapter>`, `repe`,
 * `prompt:<name>`), the system prompt its inputs carry, and how α is applied around a forward pass.
 *
 * - dW: θ + α·dW in place for the duration (weight-steer.ts), restored exactly;
 * - repe: residual additions passed to each forward call (repe-steer.ts), nothing in place;
 * - prompt: the system prompt is the method; α has no meaning (prompts are evaluated once).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ForwardOptions, Qwen3Model } from '../../../src/core/qwen3/model.js';
import { SafetensorsFile } from '../../../src/core/safetensors.js';
import type { StageContext } from '../../../src/contract/stage-kind.js';
import { dwMethod, FILES, REPE_METHOD, type MethodName } from '../artifacts.js';
import { readJsonFile } from '../json-file.js';
import { optionalInput } from '../stage-inputs.js';
import { repeResidualAdds, type RepeDirections } from './repe-steer.js';
import { withWeightSteering, type DwTensors } from './weight-steer.js';
import { readDwOutput, type DwInfo } from './dw-file.js';

export { DW_INFO_FILE, readDwOutput, type DwInfo } from './dw-file.js';

export const REPE_INFO_FILE = 'repe_info.json';

export interface RepeInfo {
  layers: number[];
  num_layers: number;
  hidden_size: number;
  n_train_topics: number;
  behavior: string;
}

export type SteeringMethod =
  | { kind: 'dw'; method: MethodName; dw: DwTensors; info: DwInfo; source: string }
  | { kind: 'repe'; method: MethodName; repe: RepeDirections; info: RepeInfo; source: string }
  | { kind: 'prompt'; method: MethodName; systemPrompt: string };

/** A repe stage's output: directions.safetensors ("directions" [L, D]) and repe_info.json (the applied layers). */
export function readRepeOutput(dir: string): { repe: RepeDirections; info: RepeInfo } {
  const info = readJsonFile<RepeInfo>(join(dir, REPE_INFO_FILE), 'the "repe" input must be a repe stage (uses: repe)');
  const file = join(dir, FILES.repeDirections);
  if (!existsSync(file)) throw new Error(`${file} is missing; the "repe" input must be a repe stage (uses: repe)`);
  const st = SafetensorsFile.open(file);
  try {
    const t = st.tensors.get('directions');
    if (t === undefined || t.shape.length !== 2) throw new Error(`${file}: expected a tensor "directions" of shape [layers, hidden]`);
    const [L, D] = t.shape as [number, number];
    const data = st.readFloat32('directions');
    const directions = Array.from({ length: L }, (_, l) => data.slice(l * D, (l + 1) * D));
    if (!Array.isArray(info.layers) || info.layers.some((l) => !Number.isInteger(l) || l < 0 || l >= L)) {
      throw new Error(`${join(dir, REPE_INFO_FILE)}: "layers" must list layer indices in 0..${L - 1}`);
    }
    return { repe: { directions, layers: info.layers }, info };
  } finally {
    st.close();
  }
}

/**
 * The steering method given by the stage's `dw` or `repe` input (at most one); undefined when it has neither.
 * `label` overrides the method name.
 */
export function steeringFromInputs(ctx: Pick<StageContext, 'inputs' | 'stageId'>, label?: string | null): SteeringMethod | undefined {
  const dwUp = optionalInput(ctx, 'dw', 'a diff stage');
  const repeUp = optionalInput(ctx, 'repe', 'a repe stage');
  if (dwUp !== undefined && repeUp !== undefined) throw new Error(`stage ${ctx.stageId}: give either a "dw" input (a diff stage) or a "repe" input, not both`);
  if (dwUp !== undefined) {
    const { dw, info } = readDwOutput(dwUp.dir);
    return { kind: 'dw', method: (label ?? dwMethod(info.adapter)) as MethodName, dw, info, source: dwUp.stageId };
  }
  if (repeUp !== undefined) {
    const { repe, info } = readRepeOutput(repeUp.dir);
    return { kind: 'repe', method: (label ?? REPE_METHOD) as MethodName, repe, info, source: repeUp.stageId };
  }
  return undefined;
}

/**
 * Run `fn` with the method applied at α: it receives the forward options to pass to every model call.
 * Prompt methods ignore α (their system prompt is in the token ids).
 */
export async function withSteering<T>(model: Qwen3Model, m: SteeringMethod, alpha: number, fn: (forward: ForwardOptions) => Promise<T>, onWarning?: (msg: string) => void): Promise<T> {
  switch (m.kind) {
    case 'dw':
      return withWeightSteering(model, m.dw, alpha, () => fn({}), onWarning, m.info.merge_dtype);
    case 'repe': {
      if (m.repe.directions[0]?.length !== model.config.hiddenSize) {
        throw new Error(`RepE directions have width ${m.repe.directions[0]?.length} but the model's hidden size is ${model.config.hiddenSize} (fit on another model?)`);
      }
      return fn({ residualAdd: repeResidualAdds(m.repe, alpha) });
    }
    case 'prompt':
      return fn({});
  }
}
