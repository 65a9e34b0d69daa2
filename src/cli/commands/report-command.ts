/**
 * `wsflow report [--open]`: where the current pipeline's report page is (the `report` stage's out dir +
 * report.html), and, with --open, opens it in the default browser where a display is available.
 * It does not build anything: `wsflow run report` does. Registration is cheap; the loader is imported lazily.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import type { CommandRegistrar } from '../command-registrar.js';
import { addPipelineOptions, type PipelineCliOptions } from '../load-pipeline-for-cli.js';
import { examplesText } from '../help-examples.js';
import { REPORT_KIND, REPORT_PAGE } from '../report-page.js';
import type { Pipeline, PlannedStage } from '../../pipeline/types.js';
import { err, ok, type Result } from '../../contract/result.js';

interface ReportCliOptions extends PipelineCliOptions {
  open: boolean;
  stage?: string;
}

interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
}

export { REPORT_KIND, REPORT_PAGE };

export const registerReportCommand: CommandRegistrar = (program, setExitCode) => {
  addPipelineOptions(
    program
      .command('report')
      .description(`print the path of the report page (${REPORT_PAGE}) the pipeline's report stage writes; --open opens it`)
      .option('--open', 'also open it in the default browser (xdg-open / open) when a display is available', false)
      .option('--stage <id>', 'which report stage, when the pipeline has several')
      .addHelpText('after', examplesText(['wsflow report --stage report@honesty', 'wsflow report --profile smoke --open'])),
  ).action(async (options: ReportCliOptions) => {
    const { loadPipelineForCli, loadOptionsOf } = await import('../load-pipeline-for-cli.js');
    const pipeline = await loadPipelineForCli(loadOptionsOf(options));
    if (pipeline === null) {
      setExitCode(2);
      return;
    }
    setExitCode(await reportAction(pipeline, options, { stdout: process.stdout, stderr: process.stderr, env: process.env, platform: process.platform }));
  });
};

function reportStages(pipeline: Pipeline): PlannedStage[] {
  return pipeline.order
    .map((id) => pipeline.stages.get(id))
    .filter((s): s is PlannedStage => s !== undefined && s.source.type === 'kind' && s.source.uses === REPORT_KIND && s.source.modulePath === undefined);
}

/** Exit code: 0 when every selected report exists (and opening, if asked, was attempted), 1 when one is not built, 2 on usage errors. */
export async function reportAction(pipeline: Pipeline, options: Pick<ReportCliOptions, 'open' | 'stage' | 'profile'>, io: Io): Promise<number> {
  const all = reportStages(pipeline);
  if (all.length === 0) {
    io.stderr.write(`error: ${pipeline.file} has no stage with "uses: ${REPORT_KIND}"\n`);
    return 2;
  }
  let selected = all;
  if (options.stage !== undefined) {
    selected = all.filter((s) => s.id === options.stage);
    if (selected.length === 0) {
      io.stderr.write(`error: no report stage "${options.stage}"; report stages: ${all.map((s) => s.id).join(', ')}\n`);
      return 2;
    }
  }
  let code = 0;
  for (const stage of selected) {
    const page = path.join(pipeline.projectDir, stage.outDir, REPORT_PAGE);
    io.stdout.write(`${page}\n`);
    if (!existsSync(page)) {
      const profile = pipeline.profile === null || options.profile === undefined ? '' : ` --profile ${pipeline.profile}`;
      io.stderr.write(`error: ${stage.id} has not been built yet; build it with: npx wsflow run ${stage.id}${profile}\n`);
      code = 1;
      continue;
    }
    if (options.open) {
      const opened = await openInBrowser(page, io);
      if (!opened.ok) io.stderr.write(`warning: report not opened: ${opened.error}; open the path above in a browser\n`);
    }
  }
  return code;
}

/** Opened, or why not. */
type OpenResult = Result<null, string>;

function opener(platform: NodeJS.Platform): { command: string; args: (file: string) => string[] } {
  if (platform === 'darwin') return { command: 'open', args: (f) => [f] };
  if (platform === 'win32') return { command: 'cmd', args: (f) => ['/c', 'start', '""', f] };
  return { command: 'xdg-open', args: (f) => [f] };
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Starts the platform's opener detached (it may outlive us); resolves once it has started or failed to. */
async function openInBrowser(file: string, io: Io): Promise<OpenResult> {
  const { command, args } = opener(io.platform);
  if (io.platform !== 'darwin' && io.platform !== 'win32') {
    if (!io.env.DISPLAY && !io.env.WAYLAND_DISPLAY) return err('no display (DISPLAY and WAYLAND_DISPLAY are unset)');
    if (!onPath(command, io.env)) return err(`${command} is not installed (Debian: apt-get install xdg-utils)`);
  }
  return new Promise((resolve) => {
    const child = spawn(command, args(file), { detached: true, stdio: 'ignore', env: io.env });
    child.once('error', (e) => resolve(err(`${command} failed to start: ${e.message}`)));
    child.once('spawn', () => {
      child.unref();
      io.stderr.write(`note: opening with ${command}\n`);
      resolve(ok(null));
    });
  });
}
