/**
 * Named points in the commit protocol where the fault-injection suite (test/faults/) kills the process with
 * SIGKILL, to prove a crash at any of them leaves no false cache hit and a next run that recovers.
 * WSFLOW_CRASH_AT=<point> kills at the first time the point is reached, <point>:<n> at the n-th. Unset (always,
 * outside those tests), a point costs one comparison.
 */
const spec = process.env.WSFLOW_CRASH_AT;
const [target, nth] = spec === undefined ? [undefined, 0] : [spec.split(':')[0], Number(spec.split(':')[1] ?? 1)];
let hits = 0;

export type CrashPoint =
  /** a new object's bytes are in its temporary name, not yet renamed into place */
  | 'object-written'
  /** a stage's output is in cache/objects, its execution not yet marked succeeded */
  | 'ingested'
  /** the execution is marked succeeded (the commit point); out/ not yet updated */
  | 'committed'
  /** a restore's or commit's copy is built next to the out, nothing renamed yet */
  | 'out-staged'
  /** the old out is renamed aside, the new one not yet in place */
  | 'out-old-moved'
  /** the new out is in place, the old one not yet removed */
  | 'out-swapped'
  /** out/ holds the result; stage_heads not yet updated */
  | 'out-written'
  /** a materialised tree is complete under its staging name, not yet renamed into cache/trees */
  | 'tree-staged'
  /** push: an object's copy is complete under its temporary name on a directory remote, not yet renamed */
  | 'remote-object-staged'
  /** push: one more object is on the remote (under its final name), the rest of the push not yet */
  | 'remote-object-pushed';

export function crashPoint(point: CrashPoint): void {
  if (target !== point) return;
  if (++hits === nth) process.kill(process.pid, 'SIGKILL');
}
