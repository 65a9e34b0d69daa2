/**
 * Paths in deps/outs/out, and how they link stages: a dep equal to or inside another stage's out makes that stage
 * upstream (as in DVC); two stages writing the same path, or one inside the other's, is an error.
 */
import path from 'node:path';
import type { DiagnosticSink } from './diagnostics.js';
import type { PathClaim, StagePlan } from './plan-stages.js';

/**
 * Project-relative POSIX form: `./a//b/` → `a/b`. Outs must stay inside the project; deps may point outside
 * (absolute or `../`), where no stage can produce them.
 */
export function normalizeProjectPath(raw: string, mayLeaveProject: boolean): { ok: true; path: string } | { ok: false; error: string } {
  const slashed = raw.replace(/\\/g, '/');
  const absolute = path.posix.isAbsolute(slashed);
  let normalized = path.posix.normalize(slashed);
  if (normalized.length > 1 && normalized.endsWith('/')) normalized = normalized.slice(0, -1);
  if (normalized === '.' || normalized === '') return { ok: false, error: 'names the project directory itself' };
  const outside = absolute || normalized === '..' || normalized.startsWith('../');
  if (outside && !mayLeaveProject) return { ok: false, error: 'is outside the project directory; stages write only inside it' };
  return { ok: true, path: normalized };
}

function parents(p: string): string[] {
  const out: string[] = [];
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) out.push(p.slice(0, i));
  return out;
}

function describeClaim(plan: StagePlan, claim: PathClaim): string {
  return claim.implicit ? `the default out "${claim.path}" of stage "${plan.stage.id}"` : `"${claim.path}" of stage "${plan.stage.id}"`;
}

/** Checks outs for overlaps and turns deps produced by other stages into needs. */
export function linkPaths(plans: readonly StagePlan[], sink: DiagnosticSink): void {
  const owners = new Map<string, { plan: StagePlan; claim: PathClaim }>();
  for (const plan of plans) {
    for (const claim of plan.outs) {
      const other = owners.get(claim.path);
      if (other) {
        sink.error(`${describeClaim(plan, claim)} is also an out of stage "${other.plan.stage.id}"; each path has one writer`, claim.range, [
          { message: `stage "${other.plan.stage.id}" writes "${claim.path}" here`, at: other.claim.range },
        ]);
        continue;
      }
      owners.set(claim.path, { plan, claim });
    }
  }
  for (const plan of plans) {
    for (const claim of plan.outs) {
      for (const parent of parents(claim.path)) {
        const other = owners.get(parent);
        if (!other) continue;
        sink.error(`${describeClaim(plan, claim)} is inside out ${describeClaim(other.plan, other.claim)}; outs must not overlap`, claim.range, [
          { message: `"${parent}" is declared here`, at: other.claim.range },
        ]);
        break;
      }
    }
  }
  // directories that hold outs: a dep naming one would read stage outputs without saying which stages
  const holders = new Map<string, string[]>();
  for (const [out, owner] of owners) {
    for (const parent of parents(out)) {
      const ids = holders.get(parent) ?? [];
      if (!ids.includes(owner.plan.stage.id)) ids.push(owner.plan.stage.id);
      holders.set(parent, ids);
    }
  }
  for (const plan of plans) {
    const external: string[] = [];
    for (const claim of plan.deps) {
      const producer = [claim.path, ...parents(claim.path)].map((p) => owners.get(p)).find((o) => o !== undefined);
      const held = holders.get(claim.path);
      if (!producer && held) {
        const names = held.length > 3 ? `${held.slice(0, 3).join(', ')} and ${held.length - 3} more` : held.join(', ');
        sink.error(
          `deps entry "${claim.path}" holds outs of ${names}: list those outs (or paths inside them) as deps, so each dependency is exact`,
          claim.range,
        );
        continue;
      }
      if (!producer) {
        if (!external.includes(claim.path)) external.push(claim.path);
        continue;
      }
      const upstream = producer.plan.stage;
      if (upstream.id === plan.stage.id) {
        sink.error(`stage "${plan.stage.id}" reads "${claim.path}", which it writes itself`, claim.range);
        continue;
      }
      const ids = plan.needs.get(upstream.name) ?? [];
      if (!ids.includes(upstream.id)) ids.push(upstream.id);
      plan.needs.set(upstream.name, ids);
      if (!plan.edges.has(upstream.id)) {
        plan.edges.set(upstream.id, {
          range: claim.range,
          describe: `${plan.stage.id} reads "${claim.path}", which ${upstream.id} writes`,
        });
      }
    }
    plan.stage.deps = external;
  }
}
