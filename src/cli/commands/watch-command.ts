/**
 * `wsflow watch [TARGET...]`: run, then watch pipeline.yaml, project-local kind modules, cmd deps and external
 * inputs (chokidar); after a debounce, reload and run again, which reruns exactly what went stale. A stage that
 * failed is not retried until something it depends on changes (its key, or its kind's module file). Changes
 * during a run queue one follow-up run. Ctrl-C stops.
 */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Pipeline } from '../../pipeline/types.js';
import { runCommand, type RunCommandOptions } from './run-command.js';
import { styleFor, type CommandEnv } from '../command-env.js';
import { onAbort } from '../../engine/exec/on-abort.js';
import { selectStages } from '../../engine/plan/select-stages.js';
import { externalInputsOf } from '../../contract/stage-kind.js';

export interface WatchCommandOptions {
  targets: readonly string[];
  /** the pipeline, and what to call once a run planned it (the CLI saves its load cache); null on errors */
  load(): Promise<{ pipeline: Pipeline; onPlanned?: () => void } | null>;
  projectDir: string;
  /** absolute path of pipeline.yaml */
  file: string;
  debounceMs: number;
  run: Omit<RunCommandOptions, 'targets' | 'dryRun' | 'skipFailedKeys' | 'onPlanned'>;
}

/** Files whose change can make a stage stale: the pipeline, local kinds, cmd deps, external inputs. */
export function watchedPaths(pipeline: Pipeline, file: string): { paths: Set<string>; moduleOf: Map<string, string> } {
  const paths = new Set<string>([file]);
  const moduleOf = new Map<string, string>();
  for (const stage of pipeline.stages.values()) {
    if (stage.source.type === 'kind') {
      if (stage.source.modulePath) {
        paths.add(stage.source.modulePath);
        moduleOf.set(stage.id, stage.source.modulePath);
      }
      const kind = pipeline.kinds.get(stage.source.uses);
      // a problem here is reported by the run's planning; watch only needs the paths it can resolve
      const ext = kind === undefined ? null : externalInputsOf(kind, stage.params, { projectDir: pipeline.projectDir });
      if (ext?.ok) for (const input of ext.value) paths.add(input.path);
    }
    for (const dep of stage.deps) paths.add(path.join(pipeline.projectDir, dep));
  }
  return { paths, moduleOf };
}

export async function watchCommand(o: WatchCommandOptions, env: CommandEnv, signal: AbortSignal): Promise<number> {
  const s = styleFor(env.stdout);
  /** failed key → the stage's kind module (if project-local): retried when that module changes */
  const failed = new Map<string, string | undefined>();
  let watcher: FSWatcher | null = null;
  let watching = new Set<string>();
  let pendingChange: string | null = null;
  let timer: NodeJS.Timeout | null = null;
  let lastCode = 0;
  let wake: (() => void) | null = null;

  const retarget = async (paths: Set<string>): Promise<void> => {
    if (!watcher) {
      watcher = watch([...paths], {
        ignoreInitial: true,
        ignored: (p: string) => isUnder(p, path.join(o.projectDir, 'cache')) || isUnder(p, path.join(o.projectDir, '.wsflow')),
      });
      watcher.on('all', (_event: string, changed: string) => onChange(changed));
      watcher.on('error', () => undefined);
      await new Promise<void>((resolve) => watcher?.once('ready', () => resolve()));
    } else {
      const add = [...paths].filter((p) => !watching.has(p));
      const remove = [...watching].filter((p) => !paths.has(p));
      if (add.length) watcher.add(add);
      if (remove.length) await watcher.unwatch(remove);
    }
    watching = paths;
  };

  const onChange = (changed: string): void => {
    for (const [key, module] of failed) if (module && path.resolve(module) === path.resolve(changed)) failed.delete(key);
    pendingChange = changed;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      wake?.();
    }, o.debounceMs);
  };

  let firstCycle = true;
  /** true: stop watching (a usage error at start) */
  const cycle = async (): Promise<boolean> => {
    const loaded = await o.load();
    if (!loaded) {
      lastCode = 2;
      env.stdout.write(`${s.yellow('pipeline has errors;')} waiting for a change\n`);
      await retarget(new Set([...watching, o.file]));
      return false;
    }
    const { pipeline, onPlanned } = loaded;
    if (firstCycle) {
      firstCycle = false;
      // a target the pipeline does not have when watch starts is a usage error, as for run: exit 2, not a wait
      const selected = selectStages(pipeline, o.targets);
      if (!selected.ok) {
        env.stderr.write(`error: ${selected.error}\n`);
        lastCode = 2;
        return true;
      }
    }
    const { paths, moduleOf } = watchedPaths(pipeline, o.file);
    await retarget(paths);
    const { exitCode, result } = await runCommand(
      pipeline,
      { ...o.run, targets: o.targets, dryRun: false, skipFailedKeys: new Set(failed.keys()), ...(onPlanned ? { onPlanned } : {}) },
      env,
      signal,
    );
    lastCode = exitCode;
    if (result) {
      for (const f of result.failedKeys) failed.set(f.key, moduleOf.get(f.stageId));
    }
    return false;
  };

  try {
    while (!signal.aborted) {
      if (await cycle()) return lastCode;
      if (signal.aborted) break;
      env.stdout.write(s.dim(`Watching ${watching.size} path${watching.size === 1 ? '' : 's'} for changes (Ctrl-C to stop)\n`));
      let unsubscribe = (): void => undefined;
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        wake = resolve;
        unsubscribe = onAbort(signal, resolve);
        if (pendingChange !== null && !timer) resolve();
      });
      unsubscribe();
      wake = null;
      if (signal.aborted) break;
      env.stdout.write(`${s.cyan('↻')} ${path.relative(o.projectDir, pendingChange ?? o.file) || pendingChange} changed\n`);
      pendingChange = null;
    }
  } finally {
    if (timer) clearTimeout(timer);
    const w = watcher as FSWatcher | null;
    if (w) await w.close();
  }
  return lastCode === 130 ? 130 : 0;
}

function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(`${dir}${path.sep}`);
}
