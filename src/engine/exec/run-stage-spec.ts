/**
 * Runs one stage in the current process: a kind's `run(ctx)` or a cmd through `sh -c` in the project directory.
 * Used by the local worker process and by `wsflow _run-stage`; never by the scheduler itself, so that a crash or
 * an out-of-memory kill of a stage cannot take the state database with it.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { StageContext, StageKind } from '../../contract/stage-kind.js';
import type { StageRunEvent, StageRunOutcome, StageRunSpec } from './stage-spec.js';
import { killTree } from '../util/process-util.js';
import { err, ok } from '../../contract/result.js';

const INTERRUPTED = err({ reason: 'interrupted' } as const);

const PROGRESS_INTERVAL_MS = 100;
const CMD_KILL_GRACE_MS = 3_000;

export async function runStageSpec(
  spec: StageRunSpec,
  emit: (e: StageRunEvent) => void,
  signal: AbortSignal,
): Promise<StageRunOutcome> {
  try {
    if (spec.source.type === 'cmd') return await runCmd(spec.source.cmd, spec, emit, signal);
    const kind = await loadKind(spec.source);
    if (signal.aborted) return INTERRUPTED;
    const impl = await kind.load();
    await impl.run(makeContext(spec, emit, signal));
    if (signal.aborted) return INTERRUPTED;
    return ok(null);
  } catch (e) {
    if (signal.aborted) return INTERRUPTED;
    return err({ reason: 'kind-threw', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
}

async function loadKind(source: Extract<StageRunSpec['source'], { type: 'kind' }>): Promise<StageKind> {
  if (source.modulePath) {
    const mod = (await import(pathToFileURL(source.modulePath).href)) as { default?: StageKind; kind?: StageKind };
    const kind = mod.default ?? mod.kind;
    if (!kind) throw new Error(`${source.modulePath} exports no stage kind (default export or export named kind)`);
    return kind;
  }
  if (!source.registryModule) throw new Error(`no registry of built-in kinds to load ${source.name} from`);
  const mod = (await import(pathToFileURL(source.registryModule).href)) as { builtinKinds?: ReadonlyMap<string, StageKind> };
  const kind = mod.builtinKinds?.get(source.name);
  if (!kind) throw new Error(`built-in stage kind ${source.name} not found in ${source.registryModule}`);
  return kind;
}

function makeContext(spec: StageRunSpec, emit: (e: StageRunEvent) => void, signal: AbortSignal): StageContext {
  let lastProgress = 0;
  return {
    stageId: spec.stageId,
    matrix: spec.matrix,
    params: spec.params,
    inputs: spec.inputs,
    outDir: spec.outDir,
    projectDir: spec.projectDir,
    signal,
    runId: spec.runId,
    executionId: spec.executionId,
    key: spec.key,
    ...(spec.run ? { run: spec.run } : {}),
    progress(update) {
      const now = Date.now();
      const final = update.total !== undefined && update.done >= update.total;
      if (!final && now - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastProgress = now;
      emit({ type: 'progress', update: { ...update } });
    },
    log(message) {
      emit({ type: 'log', message: String(message) });
    },
    metric(name, value, step) {
      if (typeof value !== 'number') throw new TypeError(`metric ${name}: value must be a number`);
      emit(step === undefined ? { type: 'metric', name, value } : { type: 'metric', name, value, step });
    },
    annotate(key, value) {
      emit({ type: 'annotate', key, value });
    },
  };
}

function runCmd(cmd: string, spec: StageRunSpec, emit: (e: StageRunEvent) => void, signal: AbortSignal): Promise<StageRunOutcome> {
  return new Promise((resolve) => {
    // Same process group as the worker: Ctrl-C in the terminal and a kill of the whole run reach the command too.
    const child = spawn('sh', ['-c', cmd], {
      cwd: spec.projectDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WSFLOW_STAGE_ID: spec.stageId, WSFLOW_RUN_ID: String(spec.runId) },
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => emit({ type: 'output', stream: 'stdout', text }));
    child.stderr.on('data', (text: string) => emit({ type: 'output', stream: 'stderr', text }));
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      if (child.pid !== undefined) killTree(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        if (child.pid !== undefined) killTree(child.pid, 'SIGKILL');
      }, CMD_KILL_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      resolve(err({ reason: 'spawn-error', message: e.message }));
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (signal.aborted) resolve(INTERRUPTED);
      else if (code === 0) resolve(ok(null));
      else resolve(err(sig ? { reason: 'signal', signal: sig } : { reason: 'exit-status', status: code ?? -1 }));
    });
  });
}
