/**
 * Commands that read recorded results (`logs`, `metrics`, `metrics diff|table`) take stage arguments without
 * planning the pipeline. When an argument names nothing recorded, the pipeline says whether it is a typo: then it is
 * an unknown target, with run's "did you mean" or list (pipeline/select-targets.ts), a usage error (exit 2).
 */
import { matchTarget, unknownTarget } from '../pipeline/select-targets.js';

/**
 * The "unknown target" line of each argument the pipeline has no stage for, in order ([] when it has them all).
 * A pipeline that does not load cannot say, and its diagnostics are not what was asked for: then [].
 */
export async function unknownStageLines(args: readonly string[], o: { file?: string | undefined; profile: string | null }): Promise<string[]> {
  if (args.length === 0) return [];
  const { loadPipelineForCli } = await import('./load-pipeline-for-cli.js');
  const pipeline = await loadPipelineForCli({ cwd: process.cwd(), file: o.file, profile: o.profile, stderr: { write: () => true } });
  if (!pipeline) return [];
  return args.filter((a) => matchTarget(pipeline, a).length === 0).map((a) => unknownTarget(pipeline, a));
}
