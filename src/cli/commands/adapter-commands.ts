import type { CommandRegistrar } from '../command-registrar.js';

export const registerAdapterCommands: CommandRegistrar = (_program, _setExitCode) => {
  // filled in by the adapter area
};
