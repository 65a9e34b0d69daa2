import type { CommandRegistrar } from '../command-registrar.js';

export const registerPipelineCommands: CommandRegistrar = (_program, _setExitCode) => {
  // filled in by the pipeline area
};
