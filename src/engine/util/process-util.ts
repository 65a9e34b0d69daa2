/**
 * Process helpers: liveness checks for lease and staging takeover, and killing a process tree without putting
 * commands in their own process group (so that Ctrl-C and `kill -- -PGID` still reach them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const HOST = hostname();

export function isPidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Child pids of every process, from /proc (Linux); empty elsewhere, where only the root pid is signalled. */
function childrenByParent(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return map;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // the command name is in parentheses and may contain spaces: parse after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const list = map.get(ppid);
    if (list) list.push(Number(name));
    else map.set(ppid, [Number(name)]);
  }
  return map;
}

/** Sends `signal` to `pid` and all its descendants (children first collected, then signalled top-down). */
export function killTree(pid: number, signal: NodeJS.Signals): void {
  const children = childrenByParent();
  const all: number[] = [];
  const visit = (p: number): void => {
    all.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  for (const p of all) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}
