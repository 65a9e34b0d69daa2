/**
 * The `wsflow` command. Each area registers its subcommands from its own module under commands/, and every
 * module imports its heavy dependencies lazily inside the action so that `wsflow status` starts fast.
 */
import { Command, CommanderError } from 'commander';
import type { CommandRegistrar } from './command-registrar.js';
import { registerPipelineCommands } from './commands/pipeline-commands.js';
import { registerModelCommands } from './commands/model-commands.js';
import { registerAdapterCommands } from './commands/adapter-commands.js';
import { registerDagCommand } from './commands/dag-command.js';
import { registerReportCommand } from './commands/report-command.js';

const registrars: CommandRegistrar[] = [
  registerPipelineCommands,
  registerDagCommand,
  registerModelCommands,
  registerAdapterCommands,
  registerReportCommand,
];

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command('wsflow')
    .description('Declarative, content-hashed DAG build system for weight-steering experiments')
    .showHelpAfterError()
    .exitOverride();
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  for (const register of registrars) register(program, setExitCode);
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2 like other CLIs
      return err.exitCode === 0 ? 0 : 2;
    }
    throw err;
  }
  return exitCode;
}
