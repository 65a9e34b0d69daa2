/**
 * `wsflow backends`: the TensorFlow.js backends this machine can load, which one `auto` picks and why the ones
 * before it were passed over, a short matmul probe of each, and the GPU adapter (vendor, architecture, driver,
 * limits). Registration is cheap; the ML core is imported inside the action.
 */
import type { CommandRegistrar } from '../command-registrar.js';
import type { BackendsReport } from '../../core/backend-report.js';

interface BackendsCliOptions {
  json?: boolean;
  seconds: string;
  size: string;
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(0)} MiB`;
}

function render(r: BackendsReport): string {
  const lines: string[] = [];
  const w = Math.max(...r.rows.map((x) => x.name.length));
  for (const row of r.rows) {
    const name = row.name.padEnd(w);
    if (!row.loads) {
      lines.push(`${name}  does not load: ${row.detail}`);
      continue;
    }
    const p = row.probe;
    const speed = p === undefined ? '' : `matmul ${p.n}³ ${p.gflops.toFixed(p.gflops < 10 ? 2 : 1)} GFLOP/s (${p.runs} runs in ${p.seconds.toFixed(1)} s, rel. error ${p.relError.toExponential(1)})`;
    const verdict = row.name === r.picked ? 'PICKED by auto' : row.auto ? 'auto would take it, but an earlier backend wins' : `not picked by auto: ${row.autoReason ?? ''}`;
    lines.push(`${name}  ${row.detail}`);
    lines.push(`${' '.repeat(w)}  ${speed}`);
    lines.push(`${' '.repeat(w)}  ${verdict}`);
  }
  lines.push('');
  if (r.gpu.ok && r.gpu.adapter !== undefined) {
    const a = r.gpu.adapter;
    lines.push(`GPU adapter (Dawn): vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, device ${a.device || '?'}${a.software ? ', SOFTWARE (CPU rasteriser)' : ''}`);
    lines.push(`  driver: ${a.description || 'not reported'}`);
    lines.push(`  limits: ${Object.entries(r.gpu.limits ?? {}).map(([k, v]) => `${k} ${k.endsWith('Size') && v >= 2 ** 20 ? mib(v) : v}`).join(', ')}`);
    lines.push(`  features: ${a.features.join(', ') || 'none'}`);
  } else {
    lines.push(`GPU adapter (Dawn): none (${r.gpu.error ?? 'unknown reason'})`);
  }
  lines.push(`auto picks: ${r.picked ?? 'nothing (no backend loads)'}; --backend NAME or WSFLOW_BACKEND=NAME forces one`);
  return `${lines.join('\n')}\n`;
}

export const registerBackendsCommand: CommandRegistrar = (program, setExitCode) => {
  program
    .command('backends')
    .description('list the TensorFlow.js backends this machine loads, the GPU adapter, a matmul probe of each, and what auto picks')
    .option('--json', 'print the report as JSON')
    .option('--seconds <s>', 'seconds of matmul probe per backend', '1')
    .option('--size <n>', 'matmul size n (n×n times n×n, float32)', '256')
    .action(async (options: BackendsCliOptions) => {
      const seconds = Number(options.seconds);
      const n = Number(options.size);
      if (!(seconds > 0 && seconds <= 60)) {
        process.stderr.write(`error: --seconds must be a number in (0, 60], got "${options.seconds}"\n`);
        setExitCode(2);
        return;
      }
      if (!(Number.isInteger(n) && n >= 1 && n <= 4096)) {
        process.stderr.write(`error: --size must be an integer in [1, 4096], got "${options.size}"\n`);
        setExitCode(2);
        return;
      }
      const { backendsReport } = await import('../../core/backend-report.js');
      let report: BackendsReport;
      try {
        report = await backendsReport({ seconds, n });
      } catch (e) {
        process.stderr.write(`error: ${(e as Error).message}\n`);
        setExitCode(1);
        return;
      }
      process.stdout.write(options.json === true ? `${JSON.stringify(report, null, 2)}\n` : render(report));
      if (report.picked === null) setExitCode(1);
    });
};
