/**
 * transformers' get_linear_schedule_with_warmup: the multiplier for optimizer step index s (0-based, the
 * scheduler is stepped after each optimizer step, so the FIRST update uses s = 0 and, with warmup, lr 0):
 * s / warmup while s < warmup, then max(0, (total − s) / (total − warmup)).
 */
export function linearWarmupMultiplier(step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}
