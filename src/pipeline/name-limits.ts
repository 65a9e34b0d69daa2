/**
 * File names have a length limit (NAME_MAX, 255 bytes on Linux and macOS filesystems), and an out path's last
 * component gets a longer sibling while it is swapped in: `.<name>.wsflow-tmp-<pid>-<8 hex>` (cas/cache-store.ts).
 * An id or path that cannot become such a file would fail only after the stage ran, so it is a planning error.
 *
 * Stage ids themselves never become file names (logs and staging directories are named by execution number or a
 * truncated label); they reach the disk through the default out path, `out/<name>/<matrix values…>`.
 */
import type { DiagnosticSink } from './diagnostics.js';
import type { PathClaim } from './plan-stages.js';

export const NAME_MAX_BYTES = 255;
/** `.` + `.wsflow-tmp-` + a pid of up to 7 digits (Linux's largest pid_max) + `-` + 8 hex digits */
export const SWAP_SUFFIX_BYTES = 1 + '.wsflow-tmp-'.length + 7 + 1 + 8;
export const MAX_OUT_COMPONENT_BYTES = NAME_MAX_BYTES - SWAP_SUFFIX_BYTES;

function shorten(name: string): string {
  return name.length <= 40 ? name : `${name.slice(0, 24)}…${name.slice(-12)}`;
}

/** Reports each out whose path has a component too long to be written with its swap sibling. */
export function checkOutNameLengths(stageId: string, outs: readonly PathClaim[], sink: DiagnosticSink): void {
  for (const claim of outs) {
    const long = claim.path.split('/').find((part) => Buffer.byteLength(part, 'utf8') > MAX_OUT_COMPONENT_BYTES);
    if (long === undefined) continue;
    const bytes = Buffer.byteLength(long, 'utf8');
    const limit = `file names hold ${NAME_MAX_BYTES} bytes and wsflow adds up to ${SWAP_SUFFIX_BYTES} while it swaps an out in, so a component may have at most ${MAX_OUT_COMPONENT_BYTES}`;
    const what = claim.implicit
      ? `stage id "${shorten(stageId)}" is too long for a file name: its output directory ${shorten(claim.path)} has a component of ${bytes} bytes`
      : `out path ${shorten(claim.path)} has a component of ${bytes} bytes`;
    sink.error(`${what}; ${limit}`, claim.range);
  }
}
