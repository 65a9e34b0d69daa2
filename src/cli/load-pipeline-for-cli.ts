/**
 * What every pipeline command (dag, run, status, explain, watch…) shares: the `-f/--profile/-S` options, and
 * loading pipeline.yaml with the built-in kinds, printing diagnostics the way users read them. A command that gets
 * null exits 2 and writes nothing.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { Pipeline } from '../pipeline/types.js';

export interface PipelineCliOptions {
  file?: string;
  profile?: string;
  set: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds `-f, --file`, `--profile` and `-S, --set` (repeatable) to a command; read them back as PipelineCliOptions. */
export function addPipelineOptions(command: Command): Command {
  return command
    .option('-f, --file <path>', 'pipeline file', undefined)
    .option('--profile <name>', 'apply a profile from pipeline.yaml (e.g. smoke); default: $WSFLOW_PROFILE; "" for none')
    .option('-S, --set <key=value>', 'override a param for this run, e.g. -S train.learning_rate=0.01 (repeatable)', collect, []);
}

/**
 * The profile a command works in: `--profile NAME`, else the project's default in the environment variable
 * WSFLOW_PROFILE (as Snakemake reads SNAKEMAKE_PROFILE), so that after `export WSFLOW_PROFILE=smoke` every command
 * — status, explain, dag, report, push — means the smoke study. An empty value, on either, means no profile.
 */
export function profileOf(options: Pick<PipelineCliOptions, 'profile'>, env: NodeJS.ProcessEnv = process.env): string | null {
  const chosen = options.profile ?? env['WSFLOW_PROFILE'];
  return chosen === undefined || chosen === '' ? null : chosen;
}

/** The load options a command's `-f/--profile/-S` give, from the current directory, diagnostics to stderr. */
export function loadOptionsOf(options: PipelineCliOptions): LoadForCliOptions {
  return { cwd: process.cwd(), file: options.file, profile: profileOf(options), overrides: options.set, stderr: process.stderr };
}

export interface LoadForCliOptions {
  /** directory to look for pipeline.yaml in (and relative -f paths against) */
  cwd: string;
  file?: string | undefined;
  profile?: string | null | undefined;
  overrides?: readonly string[] | undefined;
  stderr: { write(text: string): unknown };
  /** ANSI colours in diagnostics; default: stderr is a TTY and NO_COLOR is unset */
  color?: boolean;
  /** keep loaded pipelines in <project>/.wsflow/pipeline-cache (default true) */
  cache?: boolean;
}

function defaultColor(stderr: LoadForCliOptions['stderr']): boolean {
  return stderr === process.stderr && process.stderr.isTTY && !process.env['NO_COLOR'];
}

/** A loaded pipeline whose load-cache entry is not written yet. */
export interface LoadedForCli {
  pipeline: Pipeline;
  /**
   * Writes the pipeline's entry in `.wsflow/pipeline-cache/` (when it was not answered from there). Call it once
   * the command's planning succeeded: a command that exits 2 must leave the project as it found it.
   */
  saveLoadCache(): void;
}

/** Loads the pipeline, prints warnings and errors to stderr; null when there were errors (exit 2). */
export async function loadPipelineForCli(options: LoadForCliOptions): Promise<Pipeline | null> {
  const loaded = await loadPipelineDeferringCache(options);
  loaded?.saveLoadCache();
  return loaded?.pipeline ?? null;
}

/** As loadPipelineForCli, but the load cache is written only when the caller says planning succeeded. */
export async function loadPipelineDeferringCache(options: LoadForCliOptions): Promise<LoadedForCli | null> {
  const [{ loadPipeline }, { createKindResolver }, { directoryLoadCache }] = await Promise.all([
    import('../pipeline/load-pipeline.js'),
    import('../pipeline/kind-resolver.js'),
    import('../pipeline/load-cache.js'),
  ]);
  const absolute = path.resolve(options.cwd, options.file ?? 'pipeline.yaml');
  // diagnostics name the file as the user would type it from here
  const relative = path.relative(process.cwd(), absolute);
  const display = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : absolute;
  const store = options.cache === false ? null : directoryLoadCache(path.join(path.dirname(absolute), '.wsflow', 'pipeline-cache'));
  let pending: { key: string; value: string } | null = null;
  const result = await loadPipeline({
    file: display,
    profile: options.profile ?? null,
    overrides: options.overrides ?? [],
    // the built-in kinds are imported only if the pipeline names one (a pipeline of cmd stages needs none)
    resolveKind: createKindResolver(async () => (await import('../../stages/index.js')).builtinKinds),
    cache: store && { get: (key) => store.get(key), set: (key, value) => void (pending = { key, value }) },
  });
  const diagnostics = result.ok ? result.value.warnings : result.error;
  if (diagnostics.length > 0) {
    const [{ formatDiagnostic }, { readFile }] = await Promise.all([import('../pipeline/format-diagnostic.js'), import('node:fs/promises')]);
    const text = await readFile(absolute, 'utf8').catch(() => undefined);
    const color = options.color ?? defaultColor(options.stderr);
    options.stderr.write(`${diagnostics.map((d) => formatDiagnostic(d, text, { color })).join('\n')}\n`);
  }
  if (!result.ok) return null;
  return {
    pipeline: result.value,
    saveLoadCache: () => {
      if (pending && store) store.set(pending.key, pending.value);
      pending = null;
    },
  };
}
