/**
 * The GPU check's one table: node.json (wsflow half) beside torch.json (PyTorch half, or why it was skipped).
 *   node dist/bench/gpu/table.js --node DIR/node.json --torch DIR/torch.json [--out DIR]
 * Prints the markdown table; with --out also writes DIR/gpu-check.md and DIR/gpu-check.json.
 * Exit 0; 1 when a golden comparison is over its tolerance; 2 on a missing or malformed input file.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags } from './check-shapes.js';
import { buildTable, readNodeResult, readTorchResult, tableMarkdown } from './check-result.js';

function fail(message: string): never {
  process.stderr.write(`gpu-check table: ${message}\n`);
  process.exit(2);
}

const flags = parseFlags(process.argv.slice(2), ['node', 'torch', 'out']);
if (!flags.ok) fail(flags.error);
const nodePath = flags.value.get('node') ?? fail('--node FILE is required');
const torchPath = flags.value.get('torch') ?? fail('--torch FILE is required');
const node = readNodeResult(nodePath);
if (!node.ok) fail(node.error);
const torch = readTorchResult(torchPath);
if (!torch.ok) fail(torch.error);
const table = buildTable(node.value, torch.value);
const md = tableMarkdown(table);
process.stdout.write(md);
const out = flags.value.get('out');
if (out !== undefined) {
  const dir = resolve(out);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of [['gpu-check.md', md], ['gpu-check.json', `${JSON.stringify({ table, node: node.value, torch: torch.value }, null, 2)}\n`]] as const) {
    writeFileSync(join(dir, `${name}.tmp`), text);
    renameSync(join(dir, `${name}.tmp`), join(dir, name));
  }
  process.stderr.write(`wrote ${join(dir, 'gpu-check.md')} and gpu-check.json\n`);
}
if (!table.goldensPass) process.exitCode = 1;
