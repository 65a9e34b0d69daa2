/** A stage's named upstream inputs, with the count check every kind makes. Cheap: no TensorFlow.js. */
import type { StageContext, UpstreamOutput } from '../../src/contract/stage-kind.js';

type InputsOf = Pick<StageContext, 'inputs' | 'stageId'>;

/** The single upstream of input `name`; `what` names the kind of stage it must be, for the error. */
export function oneInput(ctx: InputsOf, name: string, what: string): UpstreamOutput {
  const ups = ctx.inputs[name] ?? [];
  if (ups.length !== 1) throw new Error(`stage ${ctx.stageId}: expected exactly one "${name}" input (${what}), got ${ups.length}`);
  return ups[0] as UpstreamOutput;
}

/** The upstream of an optional single input, or undefined when it is not connected. */
export function optionalInput(ctx: InputsOf, name: string, what: string): UpstreamOutput | undefined {
  const ups = ctx.inputs[name] ?? [];
  if (ups.length > 1) throw new Error(`stage ${ctx.stageId}: input "${name}" takes at most one stage (${what}), got ${ups.length}`);
  return ups[0];
}
