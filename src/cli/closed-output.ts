/**
 * `wsflow status | head -1`: when the reader of stdout (or stderr) goes away, a write fails with EPIPE. Node
 * reports it as an 'error' event on the stream, which nobody handles, so the process died with a stack trace.
 * Like git, wsflow instead ends quietly with status 0: the reader took what it wanted.
 *
 * A command that writes is the exception: ending a run there would cut stages off half-way and throw away their
 * work, a push or a pull would stop between objects, so such a command goes on to its end with its remaining output
 * discarded (a destroyed stream drops later writes) and exits with its own status.
 */

/**
 * The subcommands that write (or may: gc and fsck evict, model tiny and adapter merge write a directory). `run`
 * is not here: it says so itself unless it is a dry run.
 */
const WRITING: ReadonlySet<string> = new Set(['watch', 'gc', 'fsck', 'push', 'pull', 'model', 'adapter', '_run-stage']);

let finishRunsOnClose = false;

/** Installs the handlers for the subcommand about to run; main() calls it once, before any command writes. */
export function endQuietlyWhenOutputCloses(subcommand: string | undefined, streams: readonly NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
  if (subcommand !== undefined && WRITING.has(subcommand)) finishRunsOnClose = true;
  for (const stream of streams) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      if (!finishRunsOnClose) process.exit(0);
    });
  }
}

/** From here on a closed output does not end the process: a run executing stages calls it before it starts them. */
export function finishWhenOutputCloses(): void {
  finishRunsOnClose = true;
}
