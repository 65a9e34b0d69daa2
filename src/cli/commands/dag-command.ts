import type { CommandRegistrar } from '../command-registrar.js';

export const registerDagCommand: CommandRegistrar = (_program, _setExitCode) => {
  // filled in by the dag area
};
