/**
 * An S3-compatible remote through @aws-sdk/client-s3 (AWS, MinIO, Ceph, s3rver…): `<prefix>/objects/ab/cdef…` in
 * the bucket. S3 makes a PutObject visible only once its whole body has arrived, and we send Content-MD5 so a body
 * cut short or damaged on the way is refused by the server instead of stored; an object that already exists (same
 * size) is not sent again (the transfer asks first), so a repeated or concurrent push of the same content writes nothing. Credentials come
 * from the SDK's standard chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, ~/.aws, instance roles); imported only when an
 * s3:// remote is used.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { objectKey, type Remote } from './remote.js';
import type { RemoteSpec } from './remote-config.js';

type S3Spec = Extract<RemoteSpec, { type: 's3' }>;

export class S3Remote implements Remote {
  readonly description: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(spec: S3Spec) {
    this.#bucket = spec.bucket;
    this.#prefix = spec.prefix === '' ? '' : `${spec.prefix}/`;
    this.description = `s3://${spec.bucket}/${spec.prefix}${spec.endpoint ? ` at ${spec.endpoint}` : ''}`;
    const config: S3ClientConfig = {
      forcePathStyle: spec.forcePathStyle,
      // the flexible-checksum trailers newer SDKs add by default are not understood by every S3-compatible server;
      // integrity is ours to check (Content-MD5 up, sha256 down)
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      region: spec.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    };
    if (spec.endpoint !== undefined) config.endpoint = spec.endpoint;
    // errors are one line: the SDK's multi-line notice about its future Node requirement is not about this run
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    this.#client = new S3Client(config);
  }

  #key(hash: string): string {
    return `${this.#prefix}${objectKey(hash)}`;
  }

  async has(hash: string, size: number): Promise<boolean> {
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(hash) }));
      return head.ContentLength === size;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async put(hash: string, file: string, size: number): Promise<void> {
    const md5 = createHash('md5').update(readFileSync(file)).digest('base64');
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.#bucket, Key: this.#key(hash), Body: createReadStream(file), ContentLength: size, ContentMD5: md5 }),
    );
  }

  async get(hash: string, dest: string): Promise<boolean> {
    let body: Readable;
    try {
      const r = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(hash) }));
      body = r.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
    await pipeline(body, createWriteStream(dest, { flags: 'wx' }));
    return true;
  }

  close(): void {
    this.#client.destroy();
  }
}

function isNotFound(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return err.name === 'NotFound' || err.name === 'NoSuchKey' || err.$metadata?.httpStatusCode === 404;
}
