import type { CommandRegistrar } from '../command-registrar.js';

export const registerReportCommand: CommandRegistrar = (_program, _setExitCode) => {
  // filled in by the report area
};
