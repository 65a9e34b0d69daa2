/**
 * Real faults need real file systems: a tmpfs of a few hundred KiB fills up (ENOSPC), a read-only bind mount
 * refuses writes even to root (chmod does not: root ignores mode bits). Both need root and a kernel that lets this
 * process mount; where it cannot, `why` says so and the test skips with that reason. Every mount is undone in
 * `finally`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

function sh(args: readonly string[]): { ok: boolean; error: string } {
  const r = spawnSync(args[0] ?? '', args.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, error: (r.stderr || r.error?.message || `exit ${r.status}`).trim() };
}

/** Why mounting is not possible here, or undefined when it is. */
export function cannotMount(): string | undefined {
  if (process.platform !== 'linux') return `mounts are Linux-only here (platform ${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root: cannot mount a tmpfs or a read-only bind mount (and chmod does not stop root)';
  return undefined;
}

/** Runs `fn` with a tmpfs of `kib` KiB mounted on `dir`; unmounts afterwards. Throws when the mount fails. */
export async function withTmpfs<T>(dir: string, kib: number, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true });
  const m = sh(['mount', '-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir]);
  if (!m.ok) throw new Error(`mount tmpfs on ${dir}: ${m.error}`);
  try {
    return await fn();
  } finally {
    sh(['umount', dir]);
  }
}

/** Runs `fn` with `dir` bind-mounted read-only over itself; unmounts afterwards. */
export async function withReadOnly<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const bind = sh(['mount', '--bind', dir, dir]);
  if (!bind.ok) throw new Error(`bind mount ${dir}: ${bind.error}`);
  try {
    const ro = sh(['mount', '-o', 'remount,ro,bind', dir]);
    if (!ro.ok) throw new Error(`remount ${dir} read-only: ${ro.error}`);
    return await fn();
  } finally {
    sh(['umount', dir]);
  }
}

/** Whether this process can really mount (root in a container may still lack the capability). */
export function probeMount(scratch: string): string | undefined {
  const reason = cannotMount();
  if (reason) return reason;
  mkdirSync(scratch, { recursive: true });
  const m = sh(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', scratch]);
  if (!m.ok) return `mount is not permitted here: ${m.error}`;
  sh(['umount', scratch]);
  return undefined;
}
