/**
 * commander, loaded as the CommonJS module it is. Its ESM entry (`import … from 'commander'`) is a wrapper that
 * makes Node parse the CommonJS source for its export names first: a few ms of every `wsflow` start. Type-only
 * imports from 'commander' are fine anywhere (they vanish at compile time).
 */
import { createRequire } from 'node:module';
import type * as commanderTypes from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof commanderTypes;

export const Command = commander.Command;
export type Command = commanderTypes.Command;
export const CommanderError = commander.CommanderError;
export type CommanderError = commanderTypes.CommanderError;
export const InvalidArgumentError = commander.InvalidArgumentError;
export const Option = commander.Option;
export type Option = commanderTypes.Option;
