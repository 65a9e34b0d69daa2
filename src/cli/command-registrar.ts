import type { Command } from 'commander';

/** Adds one area's subcommands to the program. `setExitCode` sets the process exit code of the running command. */
export type CommandRegistrar = (program: Command, setExitCode: (code: number) => void) => void;
