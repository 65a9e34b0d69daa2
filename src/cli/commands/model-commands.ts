/**
 * `wsflow model …`: look inside a model and run it by hand. `model logits --json` doubles as the parity
 * interface with Python (transformers in float32 should print the same numbers to ~1e-4).
 * TensorFlow.js is imported only inside the actions that run the model.
 */
import { Option } from 'commander';
import type { CommandRegistrar } from '../command-registrar.js';

interface InspectOptions {
  json?: boolean;
}

interface LogitsOptions {
  ids?: string;
  text?: string;
  chat?: boolean;
  think?: boolean;
  system?: string;
  all?: boolean;
  json?: boolean;
  backend?: string;
  top: string;
}

interface TinyOptions {
  seed: string;
  layers: string;
  dtype: 'F32' | 'BF16';
}

function fail(message: string, setExitCode: (c: number) => void, code = 1): void {
  process.stderr.write(`error: ${message}\n`);
  setExitCode(code);
}

/** A MODEL argument that names no model directory or cached Hub id is a usage error (exit 2), as a bad option is. */
async function modelArgumentResolves(ref: string, setExitCode: (c: number) => void): Promise<boolean> {
  const { resolveModelDir } = await import('../../core/model-dir.js');
  const r = resolveModelDir(ref);
  if (!r.ok) fail(r.error, setExitCode, 2);
  return r.ok;
}

/** `--ids 9707,11`: every item a token id that is an exact integer (a double holds ids up to 2^53 exactly). */
function parseIds(raw: string): number[] | string {
  if (raw.trim() === '') return '--ids needs at least one token id, e.g. --ids 9707,11';
  const ids: number[] = [];
  for (const [i, item] of raw.split(',').entries()) {
    const p = item.trim();
    if (p === '') return `--ids: item ${i + 1} of "${raw}" is empty; separate ids with single commas, e.g. --ids 9707,11`;
    if (!/^\d+$/.test(p)) return `--ids: "${p}" is not a non-negative integer`;
    const id = Number(p);
    if (!Number.isSafeInteger(id)) return `--ids: ${p} is beyond 2^53 and cannot be a token id`;
    ids.push(id);
  }
  return ids;
}

/**
 * Ids the model cannot take are usage errors, found from config.json before any weight is read. More ids than
 * max_position_embeddings is a warning, as in transformers (its tokenizer warns; Qwen3's RoPE computes any
 * position, so the model runs and extrapolates past what it was trained on).
 */
function checkIds(ids: readonly number[], config: { vocabSize: number; maxPositionEmbeddings: number }, configFile: string): { error?: string; warning?: string } {
  const bad = ids.find((id) => id >= config.vocabSize);
  if (bad !== undefined) return { error: `token id ${bad} is outside the vocabulary [0, ${config.vocabSize}) of ${configFile}` };
  if (ids.length > config.maxPositionEmbeddings) {
    return {
      warning: `${ids.length} token ids, more than "max_position_embeddings" ${config.maxPositionEmbeddings} in ${configFile}: positions past it were never trained, so these logits extrapolate`,
    };
  }
  return {};
}

function parseIntArg(raw: string, name: string, min: number): number | string {
  if (!/^-?\d+$/.test(raw)) return `${name} must be an integer, got "${raw}"`;
  const n = Number(raw);
  if (n < min) return `${name} must be at least ${min}, got ${n}`;
  return n;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export const registerModelCommands: CommandRegistrar = (program, setExitCode) => {
  const model = program.command('model').description('inspect a Hugging Face model directory and run it by hand');

  model
    .command('inspect')
    .description('architecture, parameter count, dtypes, tied embeddings, tokenizer, chat template (reads headers only)')
    .argument('<model>', 'model directory, or a Hub id (ORG/NAME[@REV]) in the local Hugging Face cache')
    .option('--json', 'print JSON')
    .action(async (ref: string, options: InspectOptions) => {
      if (!(await modelArgumentResolves(ref, setExitCode))) return;
      const { inspectModel } = await import('../../core/inspect.js');
      const r = inspectModel(ref);
      if (!r.ok) return fail(r.error, setExitCode);
      const m = r.value;
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
        return;
      }
      const c = m.config;
      const lines = [
        `model         ${m.dir}${m.hubId !== undefined ? `  (${m.hubId}@${m.revision ?? '?'} from the HF cache)` : ''}`,
        `architecture  ${m.architecture}: ${c.numLayers} layers, hidden ${c.hiddenSize}, MLP ${c.intermediateSize}, ` +
          `heads ${c.numHeads}/${c.numKvHeads} (GQA ${c.numHeads / c.numKvHeads}:1), head_dim ${c.headDim}, vocab ${c.vocabSize}`,
        `              rope_theta ${c.ropeTheta}, rms_norm_eps ${c.rmsNormEps}, max positions ${c.maxPositionEmbeddings}`,
        `parameters    ${formatCount(m.parameterCount)} (config implies ${formatCount(m.parameterCountFromConfig)})`,
        `dtypes        ${Object.entries(m.dtypes).map(([d, n]) => `${d} × ${n}`).join(', ')}${c.declaredDtype !== null ? `  (config says ${c.declaredDtype})` : ''}`,
        `weights       ${m.weightFiles.length} file${m.weightFiles.length === 1 ? '' : 's'}${m.sharded ? ' (sharded, model.safetensors.index.json)' : ''}`,
        `embeddings    ${m.tiedEmbeddings ? 'tied (lm_head = embed_tokens)' : 'untied (separate lm_head)'}`,
        `tokenizer     ${m.tokenizer ? 'tokenizer.json' : 'none (token ids only)'}; chat template ${m.chatTemplate ? 'present' : 'absent'}; generation_config.json ${m.generationConfig ? 'present' : 'absent'}`,
        `eos ids       ${c.eosTokenIds.join(', ') || '(none)'}`,
      ];
      if (m.unusedTensors.length > 0) lines.push(`unused        ${m.unusedTensors.slice(0, 5).join(', ')}${m.unusedTensors.length > 5 ? ` … (${m.unusedTensors.length})` : ''}`);
      if (m.missingTensors.length > 0) lines.push(`MISSING       ${m.missingTensors.slice(0, 5).join(', ')}${m.missingTensors.length > 5 ? ` … (${m.missingTensors.length})` : ''}`);
      process.stdout.write(`${lines.join('\n')}\n`);
      if (m.missingTensors.length > 0) setExitCode(1);
    });

  model
    .command('logits')
    .description('full-vocabulary logits of the last position (or every position with --all)')
    .argument('<model>', 'model directory, or a Hub id (ORG/NAME[@REV]) in the local Hugging Face cache')
    .option('--ids <ids>', 'comma-separated token ids, e.g. 9707,11,1246')
    .option('--text <text>', 'text to tokenise first (needs tokenizer.json)')
    .option('--chat', 'with --text: render it as a user message through the chat template, with the generation prompt')
    .option('--no-think', 'with --chat: enable_thinking=false (appends the empty think block)')
    .option('--system <prompt>', 'with --chat: a system message before the user message')
    .option('--all', 'logits of every position, not only the last')
    .option('--json', 'print JSON: input ids and the full logits')
    .addOption(new Option('--backend <name>', 'webgpu, tensorflow, native, wasm, cpu or auto (default: WSFLOW_BACKEND, else auto)'))
    .option('--top <n>', 'without --json: how many top tokens to show per position', '10')
    .action(async (ref: string, options: LogitsOptions) => {
      if ((options.ids === undefined) === (options.text === undefined)) return fail('give exactly one of --ids or --text', setExitCode, 2);
      if (options.chat === true && options.text === undefined) return fail('--chat needs --text', setExitCode, 2);
      const top = parseIntArg(options.top, '--top', 1);
      if (typeof top === 'string') return fail(top, setExitCode, 2);
      const given = options.ids === undefined ? undefined : parseIds(options.ids);
      if (typeof given === 'string') return fail(given, setExitCode, 2);
      // config.json against the weight headers first: no TensorFlow.js, no allocation, on a config that lies
      if (!(await modelArgumentResolves(ref, setExitCode))) return;
      const [{ inspectModel }, { join }] = await Promise.all([import('../../core/inspect.js'), import('node:path')]);
      const inspected = inspectModel(ref);
      if (!inspected.ok) return fail(inspected.error, setExitCode);
      const missing = inspected.value.missingTensors;
      if (missing.length > 0) return fail(`${inspected.value.dir}: the checkpoint lacks tensor "${missing[0] ?? ''}"${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}`, setExitCode);
      const { dir, config } = inspected.value;
      const configFile = join(dir, 'config.json');
      const core = await import('../../core/index.js');
      let tokenizer: InstanceType<typeof core.Tokenizer> | null = null;
      let ids: number[];
      try {
        if (given !== undefined) {
          ids = given;
          if (core.hasTokenizer(dir)) tokenizer = core.loadTokenizer(dir);
        } else {
          tokenizer = core.loadTokenizer(dir);
          const text = options.text as string;
          if (options.chat === true) {
            const messages = [...(options.system !== undefined ? [{ role: 'system', content: options.system }] : []), { role: 'user', content: text }];
            ids = tokenizer.encodeChat(messages, { addGenerationPrompt: true, ...(options.think === false ? { enableThinking: false } : {}) });
          } else ids = tokenizer.encode(text);
          if (ids.length === 0) return fail('the text tokenises to no tokens', setExitCode, 2);
        }
      } catch (e) {
        return fail((e as Error).message, setExitCode);
      }
      const idCheck = checkIds(ids, config, configFile);
      if (idCheck.error !== undefined) return fail(idCheck.error, setExitCode, 2);
      if (idCheck.warning !== undefined) process.stderr.write(`warning: ${idCheck.warning}\n`);
      let backend: Awaited<ReturnType<typeof core.initBackend>>;
      try {
        backend = await core.initBackend(options.backend);
      } catch (e) {
        return fail((e as Error).message, setExitCode, 2);
      }
      process.stderr.write(`backend: ${backend.name} — ${backend.detail}\n`);
      let loaded: Awaited<ReturnType<typeof core.loadQwen3>>;
      try {
        loaded = await core.loadQwen3(dir);
      } catch (e) {
        return fail((e as Error).message, setExitCode);
      }
      const m = loaded.model;
      try {
        const t = m.logits([ids], undefined, { positions: options.all === true ? 'all' : 'last' });
        const rows = ((await t.array()) as number[][][])[0] as number[][];
        t.dispose();
        const positions = options.all === true ? ids.map((_, i) => i) : [ids.length - 1];
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify({ model: dir, backend: backend.name, input_ids: ids, positions, vocab_size: m.config.vocabSize, logits: rows })}\n`);
          return;
        }
        // the decoded text is what a reader recognises; the raw byte-level token is what getVocab() matches
        const show = (id: number): string => {
          const tok = tokenizer?.idToToken(id);
          if (tokenizer === null || tok === undefined) return String(id);
          return `${id} ${JSON.stringify(tokenizer.decode([id]))} (${JSON.stringify(tok)})`;
        };
        const out: string[] = [`input ids (${ids.length}): ${ids.join(' ')}`];
        rows.forEach((row, r) => {
          const order = row.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, top);
          const max = order[0]?.[0] ?? 0;
          const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
          out.push(`position ${positions[r]} (after ${show(ids[positions[r] as number] as number)}): logsumexp ${lse.toFixed(6)}`);
          for (const [v, i] of order) out.push(`  ${v.toFixed(6).padStart(12)}  logp ${(v - lse).toFixed(6).padStart(11)}  ${show(i)}`);
        });
        process.stdout.write(`${out.join('\n')}\n`);
      } finally {
        m.dispose();
      }
    });

  model
    .command('tiny')
    .description('write a tiny random Qwen3 (real tokenizer and vocabulary) as a Hugging Face model directory')
    .argument('<dir>', 'new or empty directory')
    .option('--seed <n>', 'random seed', '0')
    .option('--layers <n>', 'decoder layers', '4')
    .addOption(new Option('--dtype <dtype>', 'storage dtype').choices(['F32', 'BF16']).default('F32'))
    .action(async (dir: string, options: TinyOptions) => {
      const seed = parseIntArg(options.seed, '--seed', 0);
      if (typeof seed === 'string') return fail(seed, setExitCode, 2);
      const layers = parseIntArg(options.layers, '--layers', 1);
      if (typeof layers === 'string') return fail(layers, setExitCode, 2);
      const { writeTinyQwen3 } = await import('../../core/tiny-qwen3.js');
      try {
        const r = writeTinyQwen3(dir, { seed, numLayers: layers, dtype: options.dtype });
        const c = r.config;
        process.stdout.write(`wrote tiny Qwen3 to ${r.dir}: ${c.numLayers} layers, hidden ${c.hiddenSize}, heads ${c.numHeads}/${c.numKvHeads}, vocab ${c.vocabSize}, seed ${seed}, ${options.dtype}\n`);
      } catch (e) {
        fail((e as Error).message, setExitCode);
      }
    });
};
