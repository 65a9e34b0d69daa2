/**
 * The report's header block: what produced it. Profile, `-S` overrides, the params they changed and the hash of
 * pipeline.yaml come from the engine (ctx.run, facts of the run, outside every stage's key, so no upstream stage
 * reruns for them); the git commit and the wsflow version are read here, when the report is built; the backends
 * are the ones the upstream executions recorded.
 */
import { execFileSync } from 'node:child_process';
import type { ParamChange, RunFacts } from '../../src/contract/stage-kind.js';
import { wsflowVersion } from '../../src/core/wsflow-version.js';
import type { SourceStage } from './report-document.js';

export interface GitState {
  commit: string;
  /** tracked files differ from the commit (untracked files, e.g. out/, do not count) */
  dirty: boolean;
}

export interface ReportHeader {
  /** null with `runKnown: false` when the engine did not say (a context built by hand) */
  profile: string | null;
  overrides: readonly string[];
  paramChanges: readonly ParamChange[];
  pipelineSha256: string | null;
  runKnown: boolean;
  /** null outside a git work tree (or without git) */
  git: GitState | null;
  wsflowVersion: string | null;
  /** distinct backends the upstream executions recorded, sorted */
  backends: string[];
}

export function buildHeader(run: RunFacts | undefined, projectDir: string, sources: readonly SourceStage[]): ReportHeader {
  return {
    profile: run?.profile ?? null,
    overrides: run?.overrides ?? [],
    paramChanges: run?.paramChanges ?? [],
    pipelineSha256: run?.pipelineSha256 ?? null,
    runKnown: run !== undefined,
    git: gitState(projectDir),
    wsflowVersion: wsflowVersion(),
    backends: [...new Set(sources.map((s) => s.backend).filter((b): b is string => b !== null))].sort(),
  };
}

function git(projectDir: string, args: string[]): string | null {
  try {
    return execFileSync('git', ['-C', projectDir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return null;
  }
}

export function gitState(projectDir: string): GitState | null {
  const commit = git(projectDir, ['rev-parse', '--verify', 'HEAD'])?.trim();
  if (commit === undefined || commit === '') return null;
  const status = git(projectDir, ['status', '--porcelain', '--untracked-files=no']);
  return { commit, dirty: status === null || status.trim() !== '' };
}

/** The version of the wsflow installation building the report (its own package.json, not the project's). */
export { wsflowVersion } from '../../src/core/wsflow-version.js';

/** The header as label/value lines, shared by the HTML and Markdown renderers. */
export function headerLines(h: ReportHeader): { label: string; value: string }[] {
  const notRecorded = 'not recorded (the engine passed no run facts)';
  const changes =
    h.paramChanges.length === 0
      ? 'none (pipeline.yaml `params:` as written)'
      : h.paramChanges.map((c) => `${c.path} = ${JSON.stringify(c.value)} (default ${JSON.stringify(c.default)})`).join('; ');
  return [
    { label: 'profile', value: h.runKnown ? (h.profile ?? 'none') : notRecorded },
    { label: '-S overrides', value: h.runKnown ? (h.overrides.length === 0 ? 'none' : h.overrides.join('  ')) : notRecorded },
    { label: 'params changed from defaults', value: h.runKnown ? changes : notRecorded },
    { label: 'pipeline.yaml sha256', value: h.pipelineSha256 ?? notRecorded },
    { label: 'git commit', value: h.git === null ? 'not a git work tree' : `${h.git.commit}${h.git.dirty ? ' (dirty: tracked files modified)' : ' (clean)'}` },
    { label: 'wsflow version', value: h.wsflowVersion ?? 'unknown' },
    { label: 'backend', value: h.backends.length === 0 ? 'not recorded' : h.backends.join(', ') },
  ];
}
