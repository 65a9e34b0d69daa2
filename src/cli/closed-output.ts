/**
 * `wsflow status | head -1`: when the reader of stdout (or stderr) goes away, a write fails with EPIPE. Node
 * reports it as an 'error' event on the stream, which nobody handles, so the process died with a stack trace.
 * Like git, wsflow instead ends quietly with status 0: the reader took what it wanted.
 *
 * A run that is executing stages is the exception: ending it there would cut stages off half-way and throw away
 * their work, so it goes on to its end with its remaining output discarded (a destroyed stream drops later writes)
 * and exits with its own status.
 */

let finishRunsOnClose = false;

/** Installs the handlers; main() calls it once, before any command writes. */
export function endQuietlyWhenOutputCloses(streams: readonly NodeJS.WritableStream[] = [process.stdout, process.stderr]): void {
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
