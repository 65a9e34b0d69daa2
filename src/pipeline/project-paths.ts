/**
 * Paths in deps/outs/out, and how they link stages: a dep equal to or inside another stage's out makes that stage
 * upstream (as in DVC); two stages writing the same path, or one inside the other's, is an error.
 */
import { lstatSync, readlinkSync, realpathSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiagnosticSink } from './diagnostics.js';
import type { PathClaim, StagePlan } from './plan-stages.js';
import type { Diagnostic, Pipeline, PlannedStage } from './types.js';
import { err, ok, type Result } from '../contract/result.js';

/**
 * Project-relative POSIX form: `./a//b/` → `a/b`. Outs must stay inside the project; deps may point outside
 * (absolute or `../`), where no stage can produce them.
 */
export function normalizeProjectPath(raw: string, mayLeaveProject: boolean): Result<string, string> {
  const slashed = raw.replace(/\\/g, '/');
  const absolute = path.posix.isAbsolute(slashed);
  let normalized = path.posix.normalize(slashed);
  if (normalized.length > 1 && normalized.endsWith('/')) normalized = normalized.slice(0, -1);
  if (normalized === '.' || normalized === '') return err('names the project directory itself');
  const outside = absolute || normalized === '..' || normalized.startsWith('../');
  if (outside && !mayLeaveProject) return err('is outside the project directory; stages write only inside it');
  return ok(normalized);
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
  // kept with the stage (and its load-cache entry): checkOutsOnDisk runs on every load and reports at the out
  for (const plan of plans) plan.stage.outSpans = plan.outs.map((claim) => sink.source.span(claim.range));
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
  // under a profile, a kind's out moved to out/<profile>/: a dep on its path without the profile would silently read
  // another profile's result (what the command names), so it is an error
  const unprofiled = new Map<string, { plan: StagePlan; claim: PathClaim }>();
  for (const owner of owners.values()) if (owner.claim.unprofiled !== undefined) unprofiled.set(owner.claim.unprofiled, owner);
  for (const plan of plans) {
    const external: string[] = [];
    for (const claim of plan.deps) {
      const producer = [claim.path, ...parents(claim.path)].map((p) => owners.get(p)).find((o) => o !== undefined);
      const moved = producer ? undefined : [claim.path, ...parents(claim.path)].map((p) => unprofiled.get(p)).find((o) => o !== undefined);
      if (moved) {
        sink.error(
          `deps entry "${claim.path}" is inside the out of stage "${moved.plan.stage.id}" as it is without a profile; under this profile ` +
            `that stage writes "${moved.claim.path}", so the command would read another profile's result: build the path (and the ` +
            `command's) from a param the profile sets, e.g. \${params.out_root}`,
          claim.range,
        );
        continue;
      }
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

/**
 * Where `abs` really is: every symlink on the way resolved, including a last component that does not exist yet
 * (resolved as its deepest existing ancestor plus the rest) and a dangling link (resolved through its target).
 * `dirs` memoises directories across calls: outs share parents, and one lstat per out is what a status can afford.
 */
export function realPathOf(abs: string, dirs?: Map<string, string>, depth = 0, files?: Map<string, BigIntStats>): string {
  const parent = path.dirname(abs);
  if (parent === abs || depth > 40) return abs;
  // no exception for a missing path: most outs of a fresh project do not exist yet, and throwing costs
  const st = files ? lstatSync(abs, { throwIfNoEntry: false, bigint: true }) : lstatSync(abs, { throwIfNoEntry: false });
  // a plain file's lstat is its stat
  if (files && st?.isFile()) files.set(abs, st as BigIntStats);
  if (st?.isSymbolicLink()) {
    try {
      return realpathSync.native(abs);
    } catch {
      // dangling (or a loop): follow the link's text from where the link really is
      return realPathOf(path.resolve(realDir(parent, dirs, depth + 1), readlinkSync(abs)), dirs, depth + 1);
    }
  }
  return joinUnder(realDir(parent, dirs, depth + 1), path.basename(abs));
}

/** a path with an empty, `.` or `..` component, or a leading or trailing slash: path.join would change it */
const NOT_PLAIN = /(^|\/)\.{0,2}(\/|$)/;
const normalDirs = new Set<string>();

/**
 * `path.join(dir, rel)`, by concatenation where that gives the same string: `dir` absolute and normalised, `rel`
 * relative with no empty, `.` or `..` component (how outs are stored). checkOutsOnDisk joins two paths per out on
 * every load, and path.join's normalising was a third of its time at 1000 outs.
 */
export function joinUnder(dir: string, rel: string): string {
  if (NOT_PLAIN.test(rel)) return path.join(dir, rel);
  if (!normalDirs.has(dir)) {
    if (!path.isAbsolute(dir) || path.normalize(dir) !== dir || (dir !== '/' && dir.endsWith('/'))) return path.join(dir, rel);
    normalDirs.add(dir);
  }
  return dir === '/' ? `/${rel}` : `${dir}/${rel}`;
}

function realDir(dir: string, dirs: Map<string, string> | undefined, depth: number): string {
  const known = dirs?.get(dir);
  if (known !== undefined) return known;
  let real: string;
  try {
    real = realpathSync.native(dir);
  } catch {
    real = realPathOf(dir, dirs, depth);
  }
  dirs?.set(dir, real);
  return real;
}

/** True when `inner` is `outer` or lies below it (both absolute, normalised). */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(path.sep) ? outer : outer + path.sep);
}

/** The first component of `rel` under `root` that is a symbolic link, as a project-relative path; undefined if none. */
function firstSymlink(root: string, rel: string): string | undefined {
  const parts = rel.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    try {
      if (lstatSync(path.join(root, sub)).isSymbolicLink()) return sub;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** wsflow's own files in a project, which no out may replace, hold or sit inside. */
export function protectedPaths(pipeline: Pick<Pipeline, 'file' | 'projectDir' | 'stages'>): { what: string; real: string; dir: boolean }[] {
  const list = [
    { what: 'cache directory cache/', real: realPathOf(path.join(pipeline.projectDir, 'cache')), dir: true },
    { what: 'directory .wsflow/', real: realPathOf(path.join(pipeline.projectDir, '.wsflow')), dir: true },
    { what: `pipeline file ${path.basename(pipeline.file)}`, real: realPathOf(pipeline.file), dir: false },
    { what: 'pipeline schema', real: realPathOf(SCHEMA_FILE), dir: false },
  ];
  const modules = new Set<string>();
  for (const stage of pipeline.stages.values()) if (stage.source.type === 'kind' && stage.source.modulePath) modules.add(stage.source.modulePath);
  for (const m of modules) list.push({ what: `kind module ${path.relative(pipeline.projectDir, m) || m}`, real: realPathOf(m), dir: false });
  return list;
}

/** the schema that ships with wsflow (this file runs from dist/src/pipeline) */
const SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schema/pipeline.schema.json');

/** Why writing the project-relative out `rel` is not allowed, or undefined when it may be written. */
export function outPathProblem(
  projectDir: string,
  realProject: string,
  rel: string,
  guarded: readonly { what: string; real: string; dir: boolean }[],
  dirs?: Map<string, string>,
  files?: Map<string, BigIntStats>,
): string | undefined {
  const real = realPathOf(joinUnder(projectDir, rel), dirs, 0, files);
  if (real === realProject || !isWithin(real, realProject)) {
    const link = firstSymlink(projectDir, rel);
    const through = link === undefined ? '' : ` through the symbolic link "${link}"`;
    return `resolves${through} to ${real}, outside the project directory (${realProject}); stages write only inside it`;
  }
  for (const g of guarded) {
    if (isWithin(g.real, real)) return `would replace wsflow's ${g.what}${real === g.real ? '' : ' (it lies inside this out)'}`;
    if (g.dir && isWithin(real, g.real)) return `lies inside wsflow's ${g.what}, which only wsflow writes`;
  }
  return undefined;
}

/**
 * Every out resolved against the real project directory, symlinks included: an out that lands outside the project
 * or on wsflow's own files is an error at the out. Run on every load (cached or not): links change after a load.
 * `files` receives the lstat of every out that is a plain file (Pipeline.outStats).
 */
export function checkOutsOnDisk(pipeline: Pipeline, files?: Map<string, BigIntStats>): Diagnostic[] {
  const dirs = new Map<string, string>();
  const realProject = realPathOf(pipeline.projectDir, dirs);
  let guarded: ReturnType<typeof protectedPaths> | undefined;
  const errors: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const stage of pipeline.stages.values()) {
    stage.outs.forEach((rel, i) => {
      guarded ??= protectedPaths(pipeline);
      const problem = outPathProblem(pipeline.projectDir, realProject, rel, guarded, dirs, files);
      if (problem === undefined) return;
      const span = stage.outSpans?.[i] ?? stage.span;
      const message = `${outLabel(stage)} "${rel}" ${problem}`;
      const id = `${span?.offset ?? -1}\u0000${message}`;
      if (seen.has(id)) return;
      seen.add(id);
      errors.push(span ? { severity: 'error', message, span } : { severity: 'error', message });
    });
  }
  return errors.sort((a, b) => (a.span?.offset ?? -1) - (b.span?.offset ?? -1));
}

function outLabel(stage: PlannedStage): string {
  return stage.source.type === 'cmd' ? 'outs entry' : 'out';
}
