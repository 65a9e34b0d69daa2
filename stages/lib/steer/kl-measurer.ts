/** One measurement function per KL version over a prompt set: α → pooled statistics for a method. */
import type { KlStats } from '../kl-stats.js';
import type { QuestionEntry } from '../question-pool.js';
import type { LoadedModel } from '../model/load-model.js';
import { TeacherForcedKl, trajectoryKl, type KlContext, type KlSettings } from './kl-measure.js';
import type { SteeringMethod } from './steering.js';

export interface KlMeasurer {
  measure(method: SteeringMethod, alpha: number): Promise<KlStats>;
  release(): void;
}

export function klMeasurer(loaded: LoadedModel, entries: readonly QuestionEntry[], s: KlSettings, ctx: KlContext): KlMeasurer {
  if (s.version === 'v1') {
    const tf = new TeacherForcedKl(loaded, entries, s, ctx);
    return { measure: (m, a) => tf.measure(m, a), release: () => tf.release() };
  }
  return { measure: (m, a) => trajectoryKl(loaded, entries, m, a, s, ctx), release: () => undefined };
}

export function describeStats(s: KlStats): string {
  return `p95 ${s.p95.toPrecision(4)}, mean ${s.mean.toPrecision(4)}, max ${s.max.toPrecision(4)} (n=${s.n})`;
}
