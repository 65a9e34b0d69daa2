/**
 * Commands that read recorded results (`logs`, `metrics`, `metrics diff|table`, `params diff`, `gc`) take stage
 * arguments and a profile without planning the pipeline. When an argument or the profile names nothing recorded,
 * the pipeline says whether it is a typo: an unknown target gets run's "did you mean" or list
 * (pipeline/select-targets.ts), an unknown profile the loader's line; both are usage errors (exit 2).
 */
import { matchTarget, unknownTarget } from '../pipeline/select-targets.js';

interface PipelineRef {
  file?: string | undefined;
  profile: string | null;
}

/**
 * The "unknown target" line of each argument the pipeline has no stage for, in order ([] when it has them all).
 * A pipeline that does not load cannot say, and its diagnostics are not what was asked for: then [].
 */
export async function unknownStageLines(args: readonly string[], o: PipelineRef): Promise<string[]> {
  if (args.length === 0) return [];
  const { loadPipelineForCli } = await import('./load-pipeline-for-cli.js');
  const pipeline = await loadPipelineForCli({ cwd: process.cwd(), file: o.file, profile: o.profile, stderr: { write: () => true } });
  if (!pipeline) return [];
  return args.filter((a) => matchTarget(pipeline, a).length === 0).map((a) => unknownTarget(pipeline, a));
}

/**
 * The loader's line for a profile that neither recorded anything in the project nor exists in the pipeline file
 * (`pipeline.yaml:5:1: error: unknown profile "smok" (did you mean "smoke"?); profiles: smoke`); null when the
 * profile is none, has records (a profile since removed from the file can still be read and trimmed), or exists.
 */
export async function unknownProfileLine(projectDir: string, o: PipelineRef): Promise<string | null> {
  if (o.profile === null) return null;
  const { profileHasRecords } = await import('../engine/api/profile-records.js');
  if (profileHasRecords(projectDir, o.profile)) return null;
  const { loadPipelineForCli } = await import('./load-pipeline-for-cli.js');
  let said = '';
  const loaded = await loadPipelineForCli({ cwd: process.cwd(), file: o.file, profile: o.profile, color: false, stderr: { write: (t: string) => (said += t) } });
  if (loaded) return null;
  return said.split('\n').find((l) => l.includes(`error: unknown profile "${o.profile}"`)) ?? null;
}
