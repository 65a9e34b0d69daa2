import type { CommandRegistrar } from '../command-registrar.js';

export const registerModelCommands: CommandRegistrar = (_program, _setExitCode) => {
  // filled in by the model area
};
