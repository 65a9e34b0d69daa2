/**
 * The `wsflow` command. Each area registers its subcommands from its own module under commands/, and every
 * module imports its heavy dependencies lazily inside the action so that `wsflow status` starts fast.
 */
import { Command, CommanderError } from './commander.js';
import type { CommandRegistrar } from './command-registrar.js';
import { endQuietlyWhenOutputCloses } from './closed-output.js';

/**
 * Each area's registrar and the subcommands it registers. Only the invoked subcommand's area is imported (a
 * `wsflow status` has no use for `model` or `report`); help, a bare `wsflow` and unknown commands load them all, in
 * this order. test/cli/cli-start.test.ts checks the names against what each registrar registers.
 */
export const AREAS: readonly { commands: readonly string[]; load(): Promise<CommandRegistrar> }[] = [
  {
    commands: ['run', 'status', 'explain', 'watch', 'gc', 'fsck', 'metrics', 'params', 'logs', '_run-stage'],
    load: async () => (await import('./commands/pipeline-commands.js')).registerPipelineCommands,
  },
  { commands: ['dag'], load: async () => (await import('./commands/dag-command.js')).registerDagCommand },
  { commands: ['model'], load: async () => (await import('./commands/model-commands.js')).registerModelCommands },
  { commands: ['adapter'], load: async () => (await import('./commands/adapter-commands.js')).registerAdapterCommands },
  { commands: ['report'], load: async () => (await import('./commands/report-command.js')).registerReportCommand },
  { commands: ['backends'], load: async () => (await import('./commands/backends-command.js')).registerBackendsCommand },
  { commands: ['push', 'pull'], load: async () => (await import('./commands/remote-commands.js')).registerRemoteCommands },
];

/** The registrars a command line needs: its subcommand's area, or every area. */
async function registrarsFor(argv: readonly string[]): Promise<CommandRegistrar[]> {
  const sub = argv[2];
  const area = sub === undefined ? undefined : AREAS.find((a) => a.commands.includes(sub));
  return Promise.all((area ? [area] : AREAS).map((a) => a.load()));
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  endQuietlyWhenOutputCloses(argv[2]);
  const program = new Command('wsflow')
    .description('Declarative, content-hashed DAG build system for weight-steering experiments')
    .showHelpAfterError()
    // options before a subcommand belong to its parent: `metrics diff --all` is diff's --all, not metrics'
    .enablePositionalOptions()
    .exitOverride();
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  if (argv.length <= 2 || argv.some((a) => ['--version', '-V', '--help', '-h', 'help'].includes(a))) {
    // read only when it can be printed or listed: `wsflow status` pays for nothing it does not print
    const { wsflowVersion } = await import('../core/wsflow-version.js');
    program.version(wsflowVersion() ?? 'unknown', '-V, --version', 'print the wsflow version');
  }
  for (const register of await registrarsFor(argv)) register(program, setExitCode);
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2 like other CLIs
      return err.exitCode === 0 ? 0 : 2;
    }
    // a full disk, a read-only directory, a damaged state database: one line, not a stack trace
    const { describeFault, FAULT_EXIT_CODE } = await import('../engine/util/faults.js');
    const line = describeFault(err);
    if (line === undefined) throw err;
    process.stderr.write(`error: ${line}\n`);
    return FAULT_EXIT_CODE;
  }
  return exitCode;
}
