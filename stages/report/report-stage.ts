/**
 * The report kind's implementation (loaded in a worker): resolves the params and hands the upstream
 * directories to buildReport.
 */
import type { KindContext, KindImplementation } from '../../src/contract/stage-kind.js';
import { buildReport } from './build-report.js';
import type { ReportParams } from './params.js';

export const reportImplementation: KindImplementation<ReportParams> = {
  async run(ctx: KindContext<ReportParams>): Promise<void> {
    const behavior = stringParam(ctx.params.behavior) ?? stringParam(ctx.matrix.behavior) ?? 'honesty';
    const title = stringParam(ctx.params.title);
    const doc = await buildReport({
      inputs: ctx.inputs,
      outDir: ctx.outDir,
      behavior,
      ...(title === undefined ? {} : { title }),
      perSeed: ctx.params.per_seed === true,
      builtBy: {
        stageId: ctx.stageId,
        runId: ctx.runId === undefined ? null : String(ctx.runId),
        stageKey: ctx.key ?? null,
        created: new Date().toISOString(),
      },
      ...(ctx.run === undefined ? {} : { run: ctx.run }),
      projectDir: ctx.projectDir,
      log: (m) => ctx.log(m),
    });
    ctx.annotate('smoke', doc.smoke.smoke);
    if (doc.smoke.smoke) ctx.log('report: SMOKE RUN (random model / synthetic dilemmas); the report says so at the top');
    for (const w of doc.warnings) ctx.log(`report warning: ${w}`);
  },
};

function stringParam(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
