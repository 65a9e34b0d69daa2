/**
 * The "Examples:" block of a command's --help. Every example runs against the shipped pipeline.yaml
 * (test/cli/help-examples.test.ts extracts and runs each one), so they name stages and params that exist.
 */
import type { Command } from 'commander';

export function examplesText(examples: readonly string[]): string {
  return `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`;
}

export function withExamples(command: Command, examples: readonly string[]): Command {
  return command.addHelpText('after', examplesText(examples));
}
