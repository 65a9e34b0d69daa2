/**
 * `wsflow adapter merge --model DIR|HUB_ID --adapter PEFT_DIR --out DIR`: PEFT's merge_and_unload written as a
 * Hugging Face model directory (any of the six adapter types), which `wsflow model logits` and transformers
 * can load. `wsflow adapter info PEFT_DIR`: what an adapter directory holds and targets.
 * Registration is cheap; the ML core is imported inside the actions.
 */
import { statSync } from 'node:fs';
import type { CommandRegistrar } from '../command-registrar.js';

interface MergeCliOptions {
  model: string;
  adapter: string;
  out: string;
  dtype: string;
  backend?: string;
  seed: string;
}

const DTYPES: Record<string, 'auto' | 'F32' | 'BF16'> = { auto: 'auto', float32: 'F32', f32: 'F32', bfloat16: 'BF16', bf16: 'BF16' };

export const registerAdapterCommands: CommandRegistrar = (program, setExitCode) => {
  const adapter = program.command('adapter').description('PEFT adapters: merge into a model, inspect');

  adapter
    .command('merge')
    .description('merge a PEFT adapter into a model and write a Hugging Face model directory (merge_and_unload)')
    .requiredOption('--model <dir|hub-id>', 'base model directory, or ORG/NAME[@REV] in the local Hugging Face cache')
    .requiredOption('--adapter <dir>', 'PEFT adapter directory (adapter_config.json + adapter_model.safetensors)')
    .requiredOption('--out <dir>', 'output model directory (must not exist, or be empty)')
    .option('--dtype <dtype>', 'dtype of the written weights: auto (as the base checkpoint), float32, bfloat16', 'auto')
    .option('--backend <name>', 'TensorFlow.js backend: webgpu, tensorflow, native, wasm, cpu (default: auto)')
    .option('--seed <n>', 'seed for unconverted pissa_niter_K adapters (their residual is random, as in PEFT)', '0')
    .action(async (options: MergeCliOptions) => {
      const dtype = DTYPES[options.dtype.toLowerCase()];
      if (dtype === undefined) {
        process.stderr.write(`error: --dtype must be auto, float32 or bfloat16, got "${options.dtype}"\n`);
        setExitCode(2);
        return;
      }
      const seed = Number(options.seed);
      if (!Number.isSafeInteger(seed)) {
        process.stderr.write(`error: --seed must be an integer, got "${options.seed}"\n`);
        setExitCode(2);
        return;
      }
      const { resolveModelDir } = await import('../../core/model-dir.js');
      const resolved = resolveModelDir(options.model);
      if (!resolved.ok) {
        // --model names no model: a usage error
        process.stderr.write(`error: ${resolved.error}\n`);
        setExitCode(2);
        return;
      }
      if (!isDirectory(options.adapter)) {
        process.stderr.write(`error: --adapter ${options.adapter} is not a directory\n`);
        setExitCode(2);
        return;
      }
      try {
        const { initBackend } = await import('../../core/backend.js');
        await initBackend(options.backend);
        const { mergeAdapterIntoModelDir } = await import('../../core/adapters/merge-model-dir.js');
        const report = await mergeAdapterIntoModelDir({
          model: resolved.value,
          adapterDir: options.adapter,
          outDir: options.out,
          dtype,
          seed,
          onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
        });
        process.stdout.write(`merged ${report.adapterType} adapter into ${report.mergedParameters.length} weights (${report.tensors} tensors written)\n${report.outDir}\n`);
      } catch (e) {
        process.stderr.write(`error: ${(e as Error).message}\n`);
        setExitCode(1);
      }
    });

  adapter
    .command('info')
    .description('show an adapter directory: PEFT type, our adapter type, targets, tensors')
    .argument('<dir>', 'PEFT adapter directory')
    .option('--json', 'machine-readable output', false)
    .action(async (dir: string, options: { json: boolean }) => {
      if (!isDirectory(dir)) {
        process.stderr.write(`error: ${dir} is not a directory\n`);
        setExitCode(2);
        return;
      }
      try {
        const { describePeftDir } = await import('../../core/adapters/describe-peft-dir.js');
        const info = describePeftDir(dir);
        if (options.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        else {
          process.stdout.write(`${info.dir}\n  type ${info.adapterType} (peft_type ${info.peftType})\n  target_modules ${JSON.stringify(info.targetModules)}\n`);
          if (info.layersToTransform !== null) process.stdout.write(`  layers_to_transform ${JSON.stringify(info.layersToTransform)}\n`);
          process.stdout.write(`  ${info.tensors} tensors, ${info.parameters} parameters, ${info.modules} modules\n`);
          for (const w of info.warnings) process.stdout.write(`  warning: ${w}\n`);
        }
      } catch (e) {
        process.stderr.write(`error: ${(e as Error).message}\n`);
        setExitCode(1);
      }
    });
};

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
