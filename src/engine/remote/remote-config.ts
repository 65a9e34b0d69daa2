/**
 * The project's remotes, declared in `wsflow.config.yaml` next to pipeline.yaml (committed, like DVC's
 * .dvc/config; pipeline.yaml says what to compute, this file where results are shared):
 *
 *   default_remote: team
 *   remotes:
 *     team:   { url: /mnt/shared/wsflow }                 # a directory: a shared filesystem, a mounted bucket
 *     bucket: { url: s3://my-bucket/wsflow, endpoint: https://minio.lab:9000, region: eu-west-1, force_path_style: true }
 *
 * Validated like pipeline.yaml: each mistake one `file:line:col: error: …` diagnostic, nothing transferred.
 * Credentials are never here: S3 takes them from the standard AWS environment and profile chain.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseYaml } from '../../pipeline/parse-yaml.js';
import { closestMatch } from '../../pipeline/suggest.js';
import type { DiagnosticSink } from '../../pipeline/diagnostics.js';
import type { MapNode, SourceNode } from '../../pipeline/source-tree.js';
import type { Diagnostic } from '../../pipeline/types.js';
import type { Result } from '../../contract/result.js';

export const REMOTE_CONFIG_NAME = 'wsflow.config.yaml';

export type RemoteSpec =
  | { type: 'dir'; name: string; /** absolute */ path: string }
  | { type: 's3'; name: string; bucket: string; prefix: string; endpoint?: string; region?: string; forcePathStyle: boolean };

export interface RemoteConfig {
  remotes: ReadonlyMap<string, RemoteSpec>;
  defaultRemote: string | null;
}

export interface ConfigErrors {
  diagnostics: Diagnostic[];
  /** the file's text, for the excerpts under each diagnostic */
  text?: string;
}

const TOP_KEYS = ['default_remote', 'remotes'];
const REMOTE_KEYS = ['url', 'endpoint', 'region', 'force_path_style'];
const S3_ONLY = ['endpoint', 'region', 'force_path_style'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function remoteConfigPathOf(projectDir: string): string {
  return join(projectDir, REMOTE_CONFIG_NAME);
}

/** The project's remotes (none when it has no config file). `display` names the file in diagnostics. */
export function readRemoteConfig(projectDir: string, display = REMOTE_CONFIG_NAME): Result<RemoteConfig, ConfigErrors> {
  let text: string;
  try {
    text = readFileSync(remoteConfigPathOf(projectDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, value: { remotes: new Map(), defaultRemote: null } };
    return { ok: false, error: { diagnostics: [{ severity: 'error', message: `${display}: cannot read: ${(e as Error).message}` }] } };
  }
  const parsed = parseYaml(display, text);
  const { sink } = parsed;
  const config = parsed.root ? configOf(parsed.root, sink, projectDir) : null;
  if (sink.hasErrors || !config) return { ok: false, error: { diagnostics: sink.sortedErrors(), text } };
  return { ok: true, value: config };
}

function configOf(root: SourceNode, sink: DiagnosticSink, projectDir: string): RemoteConfig | null {
  if (root.kind !== 'map') {
    sink.error('expected a map with `remotes:` (and optionally `default_remote:`)', root);
    return null;
  }
  checkKeys(root, TOP_KEYS, 'top-level key', sink);
  const remotes = new Map<string, RemoteSpec>();
  const list = root.entries.get('remotes')?.value;
  if (list && list.kind !== 'map') sink.error('remotes: expected a map of remote names to { url: … }', list);
  if (list?.kind === 'map') {
    for (const [name, entry] of list.entries) {
      if (!NAME.test(name)) sink.error(`remote name ${JSON.stringify(name)}: letters, digits, '.', '_' and '-' only`, entry.keyRange);
      const spec = remoteOf(name, entry.value, sink, projectDir);
      if (spec) remotes.set(name, spec);
    }
  }
  let defaultRemote: string | null = null;
  const def = root.entries.get('default_remote');
  if (def) {
    const v = def.value;
    if (v.kind !== 'scalar' || typeof v.value !== 'string') sink.error('default_remote: expected the name of a remote', v);
    else if (list?.kind === 'map' && !list.entries.has(v.value)) {
      const guess = closestMatch(v.value, list.entries.keys());
      sink.error(`default_remote: no remote named ${JSON.stringify(v.value)}${guess ? ` (did you mean "${guess}"?)` : ''}`, v);
    } else defaultRemote = v.value;
  }
  return sink.hasErrors ? null : { remotes, defaultRemote };
}

function checkKeys(map: MapNode, allowed: readonly string[], what: string, sink: DiagnosticSink): void {
  for (const [key, entry] of map.entries) {
    if (allowed.includes(key)) continue;
    const guess = closestMatch(key, allowed);
    sink.error(`unknown ${what} ${JSON.stringify(key)}${guess ? ` (did you mean "${guess}"?)` : ''}; expected one of ${allowed.join(', ')}`, entry.keyRange);
  }
}

function remoteOf(name: string, node: SourceNode, sink: DiagnosticSink, projectDir: string): RemoteSpec | null {
  if (node.kind !== 'map') {
    sink.error(`remote ${name}: expected { url: … }`, node);
    return null;
  }
  checkKeys(node, REMOTE_KEYS, `key of remote ${name}`, sink);
  const url = node.entries.get('url');
  if (!url) {
    sink.error(`remote ${name}: url is required (a directory, or s3://bucket/prefix)`, node);
    return null;
  }
  if (url.value.kind !== 'scalar' || typeof url.value.value !== 'string' || url.value.value === '') {
    sink.error(`remote ${name}: url must be a non-empty string`, url.value);
    return null;
  }
  const u = url.value.value;
  const str = (key: string): string | undefined => {
    const e = node.entries.get(key);
    if (!e) return undefined;
    if (e.value.kind !== 'scalar' || typeof e.value.value !== 'string' || e.value.value === '') {
      sink.error(`remote ${name}: ${key} must be a non-empty string`, e.value);
      return undefined;
    }
    return e.value.value;
  };
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(u);
  if (s3) {
    const bucket = s3[1] ?? '';
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) sink.error(`remote ${name}: ${JSON.stringify(bucket)} is not a valid S3 bucket name`, url.value);
    const endpoint = str('endpoint');
    if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
      sink.error(`remote ${name}: endpoint must be an http:// or https:// URL`, node.entries.get('endpoint')?.value);
    }
    const region = str('region');
    const fps = node.entries.get('force_path_style');
    if (fps && (fps.value.kind !== 'scalar' || typeof fps.value.value !== 'boolean')) sink.error(`remote ${name}: force_path_style must be true or false`, fps.value);
    const spec: RemoteSpec = {
      type: 's3',
      name,
      bucket,
      prefix: (s3[2] ?? '').replace(/\/+$/, ''),
      forcePathStyle: fps?.value.kind === 'scalar' && fps.value.value === true,
    };
    if (endpoint !== undefined) spec.endpoint = endpoint;
    if (region !== undefined) spec.region = region;
    return spec;
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(u)) {
    sink.error(`remote ${name}: unsupported url scheme in ${JSON.stringify(u)}: a directory path or s3://bucket/prefix`, url.value);
    return null;
  }
  for (const key of S3_ONLY) {
    const e = node.entries.get(key);
    if (e) sink.error(`remote ${name}: ${key} applies to s3:// remotes only`, e.keyRange);
  }
  const path = resolve(projectDir, u);
  const rel = relative(projectDir, path);
  if (rel === '' || rel === 'cache' || rel.startsWith(`cache/`) || rel === 'out' || rel === '.wsflow') {
    if (!rel.startsWith('..') && !isAbsolute(rel)) sink.error(`remote ${name}: ${JSON.stringify(u)} is wsflow's own directory; use a directory of its own`, url.value);
  }
  return { type: 'dir', name, path };
}

/** The remote a command uses: the one named, else the default, else the only one. */
export function chooseRemote(config: RemoteConfig, name: string | undefined): Result<RemoteSpec, string> {
  if (name !== undefined) {
    const r = config.remotes.get(name);
    if (r) return { ok: true, value: r };
    const guess = closestMatch(name, config.remotes.keys());
    const known = [...config.remotes.keys()];
    return {
      ok: false,
      error: `no remote named ${JSON.stringify(name)} in ${REMOTE_CONFIG_NAME}${guess ? ` (did you mean "${guess}"?)` : known.length ? ` (remotes: ${known.join(', ')})` : ''}`,
    };
  }
  if (config.defaultRemote !== null) {
    const r = config.remotes.get(config.defaultRemote);
    if (r) return { ok: true, value: r };
  }
  if (config.remotes.size === 1) return { ok: true, value: [...config.remotes.values()][0] as RemoteSpec };
  if (config.remotes.size === 0) return { ok: false, error: `no remote declared: add one to ${REMOTE_CONFIG_NAME} (see docs/remotes.md)` };
  return { ok: false, error: `${config.remotes.size} remotes in ${REMOTE_CONFIG_NAME} and no default_remote: name one with -r NAME` };
}
