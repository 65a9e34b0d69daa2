/**
 * Which Chromium the browser tests drive. In order: WSFLOW_CHROMIUM (a path, or `bundled` to force the npm
 * build), the system's /usr/bin/chromium (Debian's package, when present), else the build that the
 * `@sparticuz/chromium` devDependency ships inside node_modules, so that `npm ci && npm test` needs no apt step.
 *
 * That build is made for Amazon Linux: it needs NSS/NSPR/expat, which the package also ships (al2023.tar.br).
 * We unpack the binary, those libraries and its fonts into node_modules/.cache/ (inside the project, once per
 * package version, atomically: a killed unpack leaves nothing that looks finished) and point the browser at them
 * with LD_LIBRARY_PATH and FONTCONFIG_FILE, so beyond glibc it needs nothing from the system. The package's own
 * `executablePath()` is not used: it unpacks into the shared /tmp (a fixed /tmp/chromium that any user's
 * version shadows) and loads the bundled libraries only on AWS Lambda.
 */
import { accessSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { err, ok, type Result } from '../../src/contract/result.js';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export type FoundChromium = {
  executablePath: string;
  /** Extra environment for the browser process (the bundled build's libraries and fonts). */
  env: Record<string, string>;
  /** Where it came from, for the test log. */
  source: string;
};

/** Chromium to launch, or why there is none here (one line, saying how to get one). */
export async function findChromium(): Promise<Result<FoundChromium, string>> {
  const override = process.env['WSFLOW_CHROMIUM'];
  if (override !== undefined && override !== '' && override !== 'bundled') {
    // asked for by name: a wrong path is the caller's mistake, never a reason to skip
    if (!isExecutable(override)) throw new Error(`WSFLOW_CHROMIUM=${override}: not an executable file`);
    return ok({ executablePath: override, env: {}, source: `WSFLOW_CHROMIUM (${override})` });
  }
  if (override !== 'bundled' && isExecutable(SYSTEM_CHROMIUM)) {
    return ok({ executablePath: SYSTEM_CHROMIUM, env: {}, source: SYSTEM_CHROMIUM });
  }
  return bundledChromium();
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function bundledChromium(): Promise<Result<FoundChromium, string>> {
  const howTo = `install Chromium at ${SYSTEM_CHROMIUM} (apt-get install chromium) or set WSFLOW_CHROMIUM=/path/to/chromium`;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return err(`no Chromium: @sparticuz/chromium ships a linux-x64 build only (this is ${process.platform}-${process.arch}); ${howTo}`);
  }
  let pkgDir: string;
  try {
    pkgDir = dirname(dirname(dirname(fileURLToPath(import.meta.resolve('@sparticuz/chromium')))));
  } catch {
    return err(`no Chromium: the @sparticuz/chromium devDependency is not installed (npm ci installs it); ${howTo}`);
  }
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const dir = join(projectRoot, 'node_modules', '.cache', 'wsflow-chromium', version);
  if (!existsSync(join(dir, 'chromium'))) await unpack(join(pkgDir, 'bin'), dir);
  return ok({
    executablePath: join(dir, 'chromium'),
    env: {
      LD_LIBRARY_PATH: [join(dir, 'lib'), process.env['LD_LIBRARY_PATH'] ?? ''].filter((p) => p !== '').join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
    source: `@sparticuz/chromium ${version} (${dir})`,
  });
}

/** Unpacks into a scratch directory beside `dir`, then renames it into place: `dir` exists only when complete. */
async function unpack(bin: string, dir: string): Promise<void> {
  const scratch = `${dir}.partial-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  try {
    await pipeline(createReadStream(join(bin, 'chromium.br')), createBrotliDecompress(), createWriteStream(join(scratch, 'chromium'), { mode: 0o755 }));
    await untarBrotli(join(bin, 'al2023.tar.br'), scratch); // lib/: NSS, NSPR, expat
    await untarBrotli(join(bin, 'fonts.tar.br'), scratch); // fonts/: Open Sans
    // the package's fonts.conf names Lambda's paths; ours names the unpacked fonts and keeps the cache beside them
    writeFileSync(
      join(scratch, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(dir, 'fonts')}</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(scratch, dir);
    } catch (e) {
      // another test process finished first: its copy is as good as ours
      if (!existsSync(join(dir, 'chromium'))) throw e;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function untarBrotli(archive: string, into: string): Promise<void> {
  // Decompressed to a file first: tar stops reading at the archive's end marker and exits, so streaming into its
  // stdin loses the race with the padding after it (ERR_STREAM_PREMATURE_CLOSE although tar succeeded).
  const plain = join(into, `.${basename(archive, '.br')}`);
  await pipeline(createReadStream(archive), createBrotliDecompress(), createWriteStream(plain));
  try {
    // tar is Essential on Debian and present on every Linux this build runs on
    const tar = spawn('tar', ['-x', '-f', plain, '-C', into], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      tar.once('error', reject);
      tar.once('close', resolve);
    });
    if (code !== 0) throw new Error(`unpacking ${archive}: tar exited ${code}: ${stderr.trim()}`);
  } finally {
    rmSync(plain, { force: true });
  }
}
