import { Option } from '../commander.js';
import type { CommandRegistrar } from '../command-registrar.js';
import { addPipelineOptions, loadOptionsOf, type PipelineCliOptions } from '../load-pipeline-for-cli.js';
import { examplesText } from '../help-examples.js';

interface DagOptions extends PipelineCliOptions {
  format: 'text' | 'mermaid' | 'dot';
  collapse: boolean;
}

export const registerDagCommand: CommandRegistrar = (program, setExitCode) => {
  const command = program
    .command('dag')
    .description('print the expanded stage graph (matrices, profile and -S applied)')
    .argument('[targets...]', 'stage ids or names; the graph is limited to them and what they need')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'mermaid', 'dot']).default('text'))
    .option('--collapse', 'one node per stage name (all its cells), like snakemake --rulegraph', false)
    .addHelpText('after', examplesText(['wsflow dag report --format mermaid', 'wsflow dag eval@honesty-lora-0', 'wsflow dag --collapse --format dot']));
  addPipelineOptions(command).action(async (targets: string[], options: DagOptions) => {
    const [{ loadPipelineForCli }, { selectTargets }, { renderDag }] = await Promise.all([
      import('../load-pipeline-for-cli.js'),
      import('../../pipeline/select-targets.js'),
      import('../../pipeline/render-dag.js'),
    ]);
    const pipeline = await loadPipelineForCli(loadOptionsOf(options));
    if (!pipeline) {
      setExitCode(2);
      return;
    }
    const selected = selectTargets(pipeline, targets);
    if (!selected.ok) {
      process.stderr.write(`error: ${selected.error}\n`);
      setExitCode(2);
      return;
    }
    if (options.collapse) {
      const { renderCollapsedDag } = await import('../collapse-dag.js');
      process.stdout.write(`${renderCollapsedDag(pipeline, selected.value, options.format)}\n`);
      return;
    }
    process.stdout.write(`${renderDag(pipeline, selected.value, options.format)}\n`);
  });
};
