/**
 * The pipeline-running subcommands: run, status, explain, watch, gc, fsck, metrics, logs, and the hidden _run-stage.
 * Registration is cheap; each action imports the engine lazily so `wsflow status` starts fast.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option, type Command } from '../commander.js';
import type { CommandRegistrar } from '../command-registrar.js';
import { addPipelineOptions, loadOptionsOf, type PipelineCliOptions } from '../load-pipeline-for-cli.js';
import type { CommandEnv } from '../command-env.js';
import type { Pipeline } from '../../pipeline/types.js';
import { executorCatalog } from '../executor-catalog.js';
import { examplesText, withExamples } from '../help-examples.js';

/** The options `run` and `watch` share (addRunOptions). */
interface RunOptions extends PipelineCliOptions {
  executor: string;
  jobs?: number;
  accel?: number;
  retries: number;
  keepGoing: boolean;
  json: boolean;
  verbose: boolean;
}

function intAtLeast(min: number, name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      // commander reports an InvalidArgumentError as a usage error (exit 2), any other error as a crash
      throw new InvalidArgumentError(`${name} must be a ${min === 0 ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

function positiveInt(name: string) {
  return intAtLeast(1, name);
}

interface DiffCliOptions {
  stage?: string[];
  all: boolean;
  json: boolean;
  file?: string;
  profile?: string;
}

/** variadic run numbers (`3` or `#3`), at most two */
function runRefs(value: string, previous: number[] | undefined): number[] {
  const m = /^#?(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`a run is a number such as 3 or #3, got ${JSON.stringify(value)}`);
  const runs = [...(previous ?? []), Number(m[1])];
  if (runs.length > 2) throw new InvalidArgumentError('at most two runs are compared');
  return runs;
}

async function diffOptionsOf(runs: number[] | undefined, o: DiffCliOptions) {
  const { profileOf } = await import('../load-pipeline-for-cli.js');
  return { projectDir: projectDirOf(o), profile: profileOf(o), runs: runs ?? [], stages: o.stage ?? [], all: o.all, json: o.json };
}

/** The "unknown target" lines of stage arguments the pipeline lacks, for commands that read recorded results. */
function unknownStagesOf(o: { file?: string; profile?: string }) {
  return async (args: readonly string[]): Promise<string[]> => {
    const [{ unknownStageLines }, { profileOf }] = await Promise.all([import('../unknown-names.js'), import('../load-pipeline-for-cli.js')]);
    return unknownStageLines(args, { file: o.file, profile: profileOf(o) });
  };
}

/** `metrics --profile smoke diff`: the profile and file given to `metrics` hold for its subcommand too */
function withMetricsOptions<T extends { profile?: string; file?: string }>(options: T, command: Command): T {
  const parent = command.parent?.opts<{ profile?: string; file?: string }>() ?? {};
  const profile = options.profile ?? parent.profile;
  const file = options.file ?? parent.file;
  return { ...options, ...(profile !== undefined ? { profile } : {}), ...(file !== undefined ? { file } : {}) };
}

/**
 * False, with the error said and exit 2 set, when the command's profile recorded nothing and the pipeline file has
 * no such profile either: a misspelt --profile or WSFLOW_PROFILE must not read as "nothing recorded".
 */
async function knownProfile(o: { file?: string; profile?: string }, setExitCode: (code: number) => void): Promise<boolean> {
  const [{ unknownProfileLine }, { profileOf }] = await Promise.all([import('../unknown-names.js'), import('../load-pipeline-for-cli.js')]);
  const line = await unknownProfileLine(projectDirOf(o), { file: o.file, profile: profileOf(o) });
  if (line === null) return true;
  process.stderr.write(`${line}\n`);
  setExitCode(2);
  return false;
}

const PROFILE_HELP = 'the profile whose runs to compare (default: $WSFLOW_PROFILE; "" for none); named runs may be of any profile';

function commandEnv(): CommandEnv {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/src/cli/commands → dist/stages (built-in kinds) and dist/src/engine/worker
  const stagesDir = path.resolve(here, '../../../stages');
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    kindSource: { builtinKindsDir: stagesDir, builtinRegistryModule: path.join(stagesDir, 'index.js') },
    workerEntry: path.resolve(here, '../../engine/worker/stage-worker.js'),
    executors: executorCatalog,
  };
}

function projectDirOf(options: { file?: string }): string {
  return path.dirname(path.resolve(process.cwd(), options.file ?? 'pipeline.yaml'));
}

/**
 * A command's module, imported alongside the pipeline load. A rejection is handled where it is awaited; one the
 * command never awaits (the pipeline did not load) is not reported twice as unhandled.
 */
function importEarly<T>(module: Promise<T>): Promise<T> {
  module.catch(() => undefined);
  return module;
}

/** The pipeline, and the callback that saves its load cache once the command's planning succeeded. */
async function load(options: PipelineCliOptions): Promise<{ pipeline: Pipeline; onPlanned: () => void } | null> {
  const { loadPipelineDeferringCache } = await import('../load-pipeline-for-cli.js');
  const loaded = await loadPipelineDeferringCache(loadOptionsOf(options));
  return loaded && { pipeline: loaded.pipeline, onPlanned: loaded.saveLoadCache };
}

/** Ctrl-C / SIGTERM abort the run (stages stopped, nothing partial cached); a second one exits at once. */
function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig === 'SIGINT' ? 'Interrupted' : `Got ${sig}`}: stopping running stages (again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function addRunOptions(command: Command): Command {
  return command
    .option('-j, --jobs <n>', 'parallel cpu-class stages (default: number of cores; SLURM: jobs in flight, 100)', positiveInt('--jobs'))
    .option('--accel <n>', 'parallel accel-class (model-heavy) stages (default 1; SLURM: as -j)', positiveInt('--accel'))
    .addOption(
      new Option('--executor <name>', 'where stages run: local worker processes, or one SLURM job each (sbatch)')
        .choices([...executorCatalog.keys()])
        .default('local'),
    )
    .option('--retries <n>', 'run a failed stage again up to N times (never after Ctrl-C)', intAtLeast(0, '--retries'), 0)
    .option('-k, --keep-going', 'after a failure, keep running what does not depend on it', false)
    .option('--json', 'print events as JSON lines', false)
    .option('-v, --verbose', 'also print fresh stages and stage log lines', false);
}

/** What `run` and `watch` pass on to each run from their shared options. */
function runSettings(options: RunOptions) {
  return {
    ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
    ...(options.accel !== undefined ? { accel: options.accel } : {}),
    executor: options.executor,
    retries: options.retries,
    keepGoing: options.keepGoing,
    json: options.json,
    verbose: options.verbose,
    argv: process.argv.slice(2),
  };
}

export const registerPipelineCommands: CommandRegistrar = (program, setExitCode) => {
  const run = addRunOptions(
    program
      .command('run')
      .description('bring the targets (default: every stage) up to date, running only what changed')
      .argument('[targets...]', 'stage ids (eval@honesty-lora-0), names (all cells) or patterns (train_pos@honesty-lora-*)')
      .option('-n, --dry-run', 'print what would run and why; execute nothing', false)
      .option(
        '-R, --force <target>',
        'run this stage again although fresh or cached (repeatable; ids, names, patterns; also a target); dependents rerun only if its output changed',
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option('-F, --force-all', 'run every selected stage again although fresh or cached', false)
      .option('--pull', 'first fetch from a remote what wsflow.lock records (wsflow pull), then run', false)
      .addHelpText(
        'after',
        examplesText([
          'wsflow run report --profile smoke       # the whole graph on the tiny model, minutes',
          'wsflow run report -j 2                  # bring the report up to date',
          "wsflow run 'train_pos@honesty-lora-*'   # one pattern of cells",
          'wsflow run eval -S train.learning_rate=0.01 -n   # what an override would rerun, and why',
          "wsflow run report -S 'eval.anchor=My choice:'",
        ]),
      )
      .option('-r, --remote <name>', 'the remote for --pull (default: wsflow.config.yaml default_remote)'),
  );
  addPipelineOptions(run).action(async (targets: string[], options: RunOptions & { dryRun: boolean; pull: boolean; remote?: string; force: string[]; forceAll: boolean }) => {
    // imported while the pipeline loads, so that the module graph's file reads overlap the load's own work
    const runModule = importEarly(import('./run-command.js'));
    const loaded = await load(options);
    if (!loaded) return setExitCode(2);
    // a run that writes (pulls, executes stages) is not cut off by a reader that closes its output
    if (!options.dryRun) (await import('../closed-output.js')).finishWhenOutputCloses();
    if (options.pull && !options.dryRun) {
      // a stage the remote could not supply runs instead; a bad remote config stops before anything runs
      const { pullInto } = await import('./remote-commands.js');
      const pulled = await pullInto(loaded.pipeline, { targets, checkout: false, ...(options.remote ? { remote: options.remote } : {}) }, { stdout: process.stderr, stderr: process.stderr });
      if (pulled >= 2) return setExitCode(pulled);
    }
    const { runCommand } = await runModule;
    const interrupt = interruptSignal();
    try {
      const { exitCode } = await runCommand(
        loaded.pipeline,
        { ...runSettings(options), targets, force: options.force, forceAll: options.forceAll, dryRun: options.dryRun, onPlanned: loaded.onPlanned },
        commandEnv(),
        interrupt.signal,
      );
      setExitCode(exitCode);
    } finally {
      interrupt.dispose();
    }
  });

  const status = program
    .command('status')
    .description('list stages as fresh / stale / cached / failed / running / never-run with the reasons; exit 1 unless all fresh')
    .argument('[targets...]', 'limit to these stages and what they need')
    .option('--json', 'machine-readable output', false)
    .option('--stale', 'list only the stages that are not fresh (the summary line still counts all)', false);
  withExamples(status, ['wsflow status', 'wsflow status --stale eval@honesty-lora-0', "wsflow status -S 'eval.anchor=My choice:' --json"]);
  addPipelineOptions(status).action(async (targets: string[], options: PipelineCliOptions & { json: boolean; stale: boolean }) => {
    const statusModule = importEarly(import('./status-command.js'));
    const loaded = await load(options);
    if (!loaded) return setExitCode(2);
    const { statusCommand } = await statusModule;
    setExitCode(await statusCommand(loaded.pipeline, { targets, json: options.json, onlyNotFresh: options.stale, onPlanned: loaded.onPlanned }, commandEnv()));
  });

  const explain = program
    .command('explain')
    .description("print every ingredient of a stage's key and what changed since its last successful execution")
    .argument('<stage>', 'stage id, e.g. eval@honesty-lora-0')
    .option('--json', 'machine-readable output', false);
  withExamples(explain, ['wsflow explain eval@honesty-lora-0', 'wsflow explain train_pos@honesty-lora-0 -S train.learning_rate=0.01 --json']);
  addPipelineOptions(explain).action(async (stage: string, options: PipelineCliOptions & { json: boolean }) => {
    const loaded = await load(options);
    if (!loaded) return setExitCode(2);
    const { explainCommand } = await import('./explain-command.js');
    setExitCode(explainCommand(loaded.pipeline, { stage, json: options.json, onPlanned: loaded.onPlanned }, commandEnv()));
  });

  const watch = addRunOptions(
    program
      .command('watch')
      .description('run, then rerun what went stale whenever pipeline.yaml, a local kind or an input changes')
      .argument('[targets...]', 'stages to keep up to date (default: all)')
      .addOption(new Option('--debounce <ms>', 'quiet period before rerunning').default(300).argParser(positiveInt('--debounce'))),
  );
  addPipelineOptions(watch).action(async (targets: string[], options: RunOptions & { debounce: number }) => {
    const { watchCommand } = await import('./watch-command.js');
    const interrupt = interruptSignal();
    try {
      setExitCode(
        await watchCommand(
          {
            targets,
            load: () => load(options),
            projectDir: projectDirOf(options),
            file: path.resolve(process.cwd(), options.file ?? 'pipeline.yaml'),
            debounceMs: options.debounce,
            run: runSettings(options),
          },
          commandEnv(),
          interrupt.signal,
        ),
      );
    } finally {
      interrupt.dispose();
    }
  });

  program
    .command('gc')
    .description("in one profile, remove cache objects that no head and none of each stage's last N results need; other profiles are kept whole")
    .option('-n, --dry-run', 'say what would be removed and freed', false)
    .option('--keep <n>', 'results (distinct keys) kept per stage besides what out/ holds', positiveInt('--keep'), 1)
    .option('--profile <name>', 'the profile to trim (default: $WSFLOW_PROFILE; "" for none)')
    .addOption(new Option('--all-profiles', 'trim every profile').default(false).conflicts('profile'))
    .option('--json', 'machine-readable output', false)
    .option('-f, --file <path>', 'pipeline file (locates the project)')
    .addHelpText('after', examplesText(['wsflow gc --dry-run']))
    .action(async (options: { dryRun: boolean; json: boolean; file?: string; keep: number; profile?: string; allProfiles: boolean }) => {
      if (!options.allProfiles && !(await knownProfile(options, setExitCode))) return;
      const { gcCommand } = await import('./gc-command.js');
      const { profileOf } = await import('../load-pipeline-for-cli.js');
      const profiles = options.allProfiles ? { type: 'all' as const } : { type: 'one' as const, profile: profileOf(options) };
      setExitCode(
        gcCommand(
          { projectDir: projectDirOf(options), dryRun: options.dryRun, json: options.json, scope: { profiles, keep: options.keep } },
          commandEnv(),
        ),
      );
    });

  program
    .command('fsck')
    .description('verify every cache object against its content hash; evict what is damaged (exit 1), 0 when intact')
    .option('--json', 'machine-readable output', false)
    .option('-f, --file <path>', 'pipeline file (locates the project)')
    .action(async (options: { json: boolean; file?: string }) => {
      const { fsckCommand } = await import('./fsck-command.js');
      setExitCode(fsckCommand({ projectDir: projectDirOf(options), json: options.json }, commandEnv()));
    });

  const metrics = program
    .command('metrics')
    .description('metrics recorded by stages (latest successful execution of each; --all: every execution); diff and table compare runs')
    .argument('[stages...]', 'stage ids or names')
    .option('--all', 'every execution, with the params that differ between them', false)
    .option('--json', 'machine-readable output, with every point of each curve', false)
    .option('--profile <name>', 'the profile whose executions to show (default: $WSFLOW_PROFILE; "" for none)')
    .option('-f, --file <path>', 'pipeline file (locates the project)')
    .addHelpText('after', examplesText(['wsflow metrics eval --all', 'wsflow metrics train_pos@honesty-lora-0 --json', 'wsflow metrics diff', 'wsflow metrics table eval']))
    .action(async (stages: string[], options: { all: boolean; json: boolean; file?: string; profile?: string }) => {
      if (!(await knownProfile(options, setExitCode))) return;
      const { metricsCommand } = await import('./metrics-command.js');
      const { profileOf } = await import('../load-pipeline-for-cli.js');
      setExitCode(
        await metricsCommand(
          { projectDir: projectDirOf(options), stages, all: options.all, json: options.json, profile: profileOf(options) },
          commandEnv(),
          unknownStagesOf(options),
        ),
      );
    })
    .enablePositionalOptions();
  metrics
    .command('diff')
    .description("metrics that changed between two runs (default: the last two; one run: it against the latest), like 'dvc metrics diff'")
    .argument('[runs...]', 'run numbers, e.g. 3 5 (see wsflow metrics table)', runRefs)
    .option('--stage <names...>', 'only these stage ids or names')
    .option('--all', 'also the metrics that did not change', false)
    .option('--json', 'machine-readable output', false)
    .option('--profile <name>', PROFILE_HELP)
    .option('-f, --file <path>', 'pipeline file (locates the project)')
    .addHelpText('after', examplesText(['wsflow metrics diff', 'wsflow metrics diff --stage eval --all --json']))
    .action(async (runs: number[] | undefined, given: DiffCliOptions, command: Command) => {
      const options = withMetricsOptions(given, command);
      if (!(await knownProfile(options, setExitCode))) return;
      const { metricsDiffCommand } = await import('./compare-commands.js');
      setExitCode(await metricsDiffCommand(await diffOptionsOf(runs, options), commandEnv(), unknownStagesOf(options)));
    });
  metrics
    .command('table')
    .description("methods × metrics for each of the last runs, the params that differ between them as columns, like 'dvc exp show'")
    .argument('[stages...]', 'stage ids or names')
    .option('--last <n>', 'how many runs', positiveInt('--last'), 5)
    .option('--json', 'machine-readable output', false)
    .option('--profile <name>', 'the profile whose runs to list (default: $WSFLOW_PROFILE; "" for none)')
    .option('-f, --file <path>', 'pipeline file (locates the project)')
    .addHelpText('after', examplesText(['wsflow metrics table eval --last 3', 'wsflow metrics table train_pos --json']))
    .action(async (stages: string[], given: { last: number; json: boolean; file?: string; profile?: string }, command: Command) => {
      const options = withMetricsOptions(given, command);
      if (!(await knownProfile(options, setExitCode))) return;
      const [{ metricsTableCommand }, { profileOf }] = await Promise.all([import('./compare-commands.js'), import('../load-pipeline-for-cli.js')]);
      setExitCode(
        await metricsTableCommand(
          { projectDir: projectDirOf(options), profile: profileOf(options), stages, last: options.last, json: options.json },
          commandEnv(),
          unknownStagesOf(options),
        ),
      );
    });

  program
    .command('params')
    .description('pipeline params as runs saw them')
    .command('diff')
    .description("params that differ between two runs (default: the last two; one run: it against the latest), like 'dvc params diff'")
    .argument('[runs...]', 'run numbers, e.g. 3 5', runRefs)
    .option('--all', 'also the params that did not change', false)
    .option('--json', 'machine-readable output', false)
    .option('--profile <name>', PROFILE_HELP)
    .option('-f, --file <path>', 'pipeline file (locates the project)')
    .addHelpText('after', examplesText(['wsflow params diff', 'wsflow params diff --all --json']))
    .action(async (runs: number[] | undefined, options: DiffCliOptions) => {
      if (!(await knownProfile(options, setExitCode))) return;
      const { paramsDiffCommand } = await import('./compare-commands.js');
      setExitCode(await paramsDiffCommand(await diffOptionsOf(runs, options), commandEnv()));
    });

  program
    .command('logs')
    .description("print a stage's saved output (stdout, stderr, log lines) from its latest execution")
    .argument('<stage>', 'stage id, e.g. train_pos@honesty-lora-0')
    .option('--execution <n>', 'a specific execution number (see wsflow explain)', positiveInt('--execution'))
    .option('--profile <name>', "the profile whose latest execution to show (default: $WSFLOW_PROFILE; \"\" for none)")
    .option('-f, --file <path>', 'pipeline file (locates the project)')
    .addHelpText('after', examplesText(['wsflow logs train_pos@honesty-lora-0']))
    .action(async (stage: string, options: { execution?: number; file?: string; profile?: string }) => {
      if (!(await knownProfile(options, setExitCode))) return;
      const { logsCommand } = await import('./logs-command.js');
      const { profileOf } = await import('../load-pipeline-for-cli.js');
      const unknownStages = unknownStagesOf(options);
      const unknownStage = async (id: string): Promise<string | null> => (await unknownStages([id]))[0] ?? null;
      setExitCode(
        await logsCommand(
          { projectDir: projectDirOf(options), stage, profile: profileOf(options), ...(options.execution !== undefined ? { execution: options.execution } : {}) },
          commandEnv(),
          unknownStage,
        ),
      );
    });

  program
    .command('_run-stage', { hidden: true })
    .description('run one stage from a spec file, as a worker does (used by cluster executors)')
    .argument('<spec>', 'stage spec JSON file')
    .option('--events <file>', 'append events as JSON lines to this file instead of stdout')
    .action(async (spec: string, options: { events?: string }) => {
      const { runStageCommand } = await import('./run-stage-command.js');
      setExitCode(await runStageCommand(spec, options.events, commandEnv()));
    });
};
