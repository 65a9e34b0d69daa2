/**
 * `wsflow push [TARGETS]` and `wsflow pull [TARGETS]` (and what `run --pull` does first): the remote named with
 * -r, else wsflow.config.yaml's default_remote, else its only remote. Exit 0 when every selected result moved,
 * 1 when one could not (missing or damaged on the remote, damaged here: one line each), 2 for a bad config,
 * pipeline or target (nothing transferred), 3 for a fault of the machine.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../commander.js';
import type { CommandRegistrar } from '../command-registrar.js';
import { addPipelineOptions, loadOptionsOf, type PipelineCliOptions } from '../load-pipeline-for-cli.js';
import type { Pipeline } from '../../pipeline/types.js';
import type { Remote } from '../../engine/remote/remote.js';
import type { PullFailure } from '../../engine/remote/pull.js';

interface RemoteCliOptions extends PipelineCliOptions {
  remote?: string;
}

type Out = NodeJS.WritableStream & { isTTY?: boolean };

function builtinKindSource(): { builtinKindsDir: string; builtinRegistryModule: string } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const stagesDir = path.resolve(here, '../../../stages');
  return { builtinKindsDir: stagesDir, builtinRegistryModule: path.join(stagesDir, 'index.js') };
}

/** The remote the options name, or null after printing why not (exit 2). */
async function openChosenRemote(projectDir: string, name: string | undefined, stderr: Out): Promise<Remote | null> {
  const [{ readRemoteConfig, chooseRemote, REMOTE_CONFIG_NAME }, { openRemote }] = await Promise.all([
    import('../../engine/remote/remote-config.js'),
    import('../../engine/remote/remote.js'),
  ]);
  const relative = path.relative(process.cwd(), path.join(projectDir, REMOTE_CONFIG_NAME));
  const config = readRemoteConfig(projectDir, relative.startsWith('..') ? path.join(projectDir, REMOTE_CONFIG_NAME) : relative);
  if (!config.ok) {
    const { formatDiagnostic } = await import('../../pipeline/format-diagnostic.js');
    const color = stderr === process.stderr && process.stderr.isTTY && !process.env['NO_COLOR'];
    stderr.write(`${config.error.diagnostics.map((d) => formatDiagnostic(d, config.error.text, { color })).join('\n')}\n`);
    return null;
  }
  const chosen = chooseRemote(config.value, name);
  if (!chosen.ok) {
    stderr.write(`error: ${chosen.error}\n`);
    return null;
  }
  return openRemote(chosen.value);
}

/** A remote's own failure (unreachable, refused credentials, no such bucket) as one line; a machine fault goes on to main. */
async function remoteFailure(e: unknown, remote: Remote, stderr: Out): Promise<number> {
  const { describeFault } = await import('../../engine/util/faults.js');
  if (describeFault(e) !== undefined) throw e;
  const err = e as { name?: string; message?: string; code?: string };
  const what = [err.name && err.name !== 'Error' ? err.name : err.code, err.message?.split('\n', 1)[0]].filter(Boolean).join(': ');
  stderr.write(`error: ${remote.description}: ${what || String(e)}\n`);
  return 1;
}

async function printPlanFailure(error: PullFailure, stderr: Out): Promise<number> {
  if (error.type === 'plan') {
    const { printPlanErrors } = await import('../command-env.js');
    printPlanErrors(error.errors, { stderr }, 'nothing was transferred');
    return 2;
  }
  stderr.write(`error: ${error.message}\n`);
  return error.type === 'busy' ? 3 : 2;
}

async function loadPipeline(options: PipelineCliOptions): Promise<Pipeline | null> {
  const { loadPipelineForCli } = await import('../load-pipeline-for-cli.js');
  return loadPipelineForCli(loadOptionsOf(options));
}

async function push(targets: string[], options: RemoteCliOptions): Promise<number> {
  const pipeline = await loadPipeline(options);
  if (!pipeline) return 2;
  const remote = await openChosenRemote(pipeline.projectDir, options.remote, process.stderr);
  if (!remote) return 2;
  try {
    const { pushStages } = await import('../../engine/remote/push.js');
    const { fmtBytes } = await import('../loggers/format-bytes.js');
    const r = await pushStages(pipeline, builtinKindSource(), targets, remote);
    if (!r.ok) return printPlanFailure(r.error, process.stderr);
    const { pushed, unavailable, failed, counts } = r.value;
    for (const f of failed) process.stderr.write(`error: stage ${f.stageId}: ${f.message}\n`);
    if (unavailable.length) {
      const shown = unavailable.slice(0, 5).map((u) => `${u.stageId} (${u.state})`);
      process.stdout.write(
        `${unavailable.length} stage${unavailable.length === 1 ? ' has' : 's have'} no result here to push: ${shown.join(', ')}${unavailable.length > 5 ? ', …' : ''}\n`,
      );
    }
    process.stdout.write(
      `pushed ${pushed.length} stage${pushed.length === 1 ? '' : 's'} to ${remote.description}: ${counts.objects} object${counts.objects === 1 ? '' : 's'} (${fmtBytes(counts.bytes)}) sent, ${counts.present} already there\n`,
    );
    return failed.length ? 1 : 0;
  } catch (e) {
    return remoteFailure(e, remote, process.stderr);
  } finally {
    remote.close();
  }
}

/**
 * Fetches (and with `checkout` copies into out/) what wsflow.lock records for the pipeline: `wsflow pull`, and the
 * first half of `run --pull`. Returns the exit code.
 */
export async function pullInto(
  pipeline: Pipeline,
  o: { targets: readonly string[]; remote?: string; checkout: boolean },
  out: { stdout: Out; stderr: Out },
): Promise<number> {
  const remote = await openChosenRemote(pipeline.projectDir, o.remote, out.stderr);
  if (!remote) return 2;
  try {
    const { pullStages } = await import('../../engine/remote/pull.js');
    const { fmtBytes } = await import('../loggers/format-bytes.js');
    const r = await pullStages(pipeline, builtinKindSource(), { targets: o.targets, checkout: o.checkout, argv: process.argv.slice(2) }, remote);
    if (!r.ok) return printPlanFailure(r.error, out.stderr);
    const { fetched, checkedOut, fresh, notLocked, failed, counts, noLock } = r.value;
    if (noLock) {
      out.stdout.write(`no wsflow.lock next to ${path.basename(pipeline.file)}: nothing says what to pull (a successful run writes it; commit it)\n`);
      return 0;
    }
    for (const f of failed) out.stderr.write(`error: stage ${f.stageId}: ${f.message}\n`);
    for (const n of notLocked.slice(0, 10)) out.stdout.write(`${n.stageId}: not in wsflow.lock as the pipeline is now (it will run)${n.reasons[0] ? ` ← ${n.reasons[0]}` : ''}\n`);
    if (notLocked.length > 10) out.stdout.write(`… and ${notLocked.length - 10} more stages not in wsflow.lock\n`);
    const parts = [
      `pulled ${fetched.length} stage${fetched.length === 1 ? '' : 's'} from ${remote.description}: ${counts.objects} object${counts.objects === 1 ? '' : 's'} (${fmtBytes(counts.bytes)}) received, ${counts.present} already here`,
    ];
    if (o.checkout) parts.push(`${checkedOut.length} checked out into the project`);
    if (fresh.length) parts.push(`${fresh.length} already fresh`);
    out.stdout.write(`${parts.join('; ')}\n`);
    return failed.length ? 1 : 0;
  } catch (e) {
    return remoteFailure(e, remote, out.stderr);
  } finally {
    remote.close();
  }
}

function addRemoteOption(command: Command): Command {
  return command.option('-r, --remote <name>', 'a remote from wsflow.config.yaml (default: its default_remote, or its only remote)');
}

export const registerRemoteCommands: CommandRegistrar = (program, setExitCode) => {
  const pushCmd = addRemoteOption(
    program
      .command('push')
      .description("send the selected stages' results (fresh or cached here) to a remote, content-addressed and verified")
      .argument('[targets...]', 'stage ids, names or patterns (default: every stage)'),
  );
  addPipelineOptions(pushCmd).action(async (targets: string[], options: RemoteCliOptions) => {
    setExitCode(await push(targets, options));
  });

  const pullCmd = addRemoteOption(
    program
      .command('pull')
      .description('fetch from a remote the results wsflow.lock records for the pipeline as it is, and check them out into the project')
      .argument('[targets...]', 'stage ids, names or patterns (default: every stage)'),
  );
  addPipelineOptions(pullCmd).action(async (targets: string[], options: RemoteCliOptions) => {
    const pipeline = await loadPipeline(options);
    if (!pipeline) return setExitCode(2);
    setExitCode(
      await pullInto(
        pipeline,
        { targets, ...(options.remote !== undefined ? { remote: options.remote } : {}), checkout: true },
        { stdout: process.stdout, stderr: process.stderr },
      ),
    );
  });
};
