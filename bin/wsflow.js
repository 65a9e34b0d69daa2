#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (built by `npm ci` via the prepare script).
import { main } from '../dist/src/cli/main.js';

/**
 * A finished command has nothing left to wait for but its output reaching stdout and stderr: exit once both took
 * it. Letting the event loop run dry instead waits for V8 to finish the incremental marking a 1000-stage status
 * starts and for the ESM loader's last file handle to close, 15–35 ms of every such command
 * (bench/engine/README.md). Every command awaits its own work (workers, the state database, files) before main()
 * resolves. On Linux, writes to a pipe or file are synchronous anyway; the empty writes' callbacks cover the rest.
 */
function exitWhenFlushed(code) {
  process.exitCode = code;
  // a cluster job's stage ran in this process: whatever its kind left going is let finish, as before
  if (process.argv[2] === '_run-stage') return;
  let pending = 2;
  // a stream that failed (its reader went away: EPIPE) is left to its 'error' handler (src/cli/closed-output.ts),
  // and the process to end as it always did
  const flushed = (err) => {
    if (err) pending = -1;
    else if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

main(process.argv).then(exitWhenFlushed, (err) => {
  process.stderr.write(`wsflow: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  exitWhenFlushed(70);
});
