import { createHash, randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import {
  access,
  constants,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ArchiveError, ErrorCodes, errnoCode } from '../errors.js';
import type { Logger } from '../log/index.js';
import { fsyncDir } from '../util/fs.js';
import {
  compareKeys,
  exists,
  digestMismatch,
  lengthMismatch,
  notFound,
  rangeError,
  toBuffer,
  validateKey,
  validateMetadata,
  validatePrefix,
  validateRange,
  type ListedObject,
  type ObjectHead,
  type ObjectStore,
  bodySource,
  type PutBody,
  type PutOptions,
  type PutResult,
} from './types.js';

export interface LocalObjectStoreOptions {
  /** The root directory; created on first write. */
  dir: string;
  log?: Logger;
}

interface Sidecar {
  size: number;
  etag: string;
  metadata: Record<string, string>;
}

/**
 * The embedded object store: one file per key under a root directory
 * (`<root>/topic=t/partition=0/<first>-<last>.parquet`), so the cold tier can be read with any
 * tool that reads files.
 *
 * Durability and atomicity: a put writes `.<name>.tmp-<random>` in the key's directory, fsyncs
 * it, then makes it visible with rename() (overwrite) or link() (put-if-absent: link fails with
 * EEXIST when the key exists, atomically against any concurrent writer, including another
 * process), then fsyncs the directory (and the parents of directories it created).
 *
 * Metadata lives in a JSON sidecar next to the object, `.<name>.meta-<inode>.json`, written and
 * fsynced BEFORE the object becomes visible. Naming it by the object file's inode (which rename
 * and link preserve) ties metadata to exactly that version of the object: a reader never sees
 * new bytes with old metadata, and a crash at any point leaves either the old object with its
 * own sidecar or the new one with its own. Leftovers of a crash are hidden dot files (an orphan
 * temp file and its sidecar) that list() skips. Keys can never name them because key segments
 * may not start with "." (see validateKey).
 *
 * Not done: empty directories left by delete() are kept (harmless, skipped by list()).
 */
export class LocalObjectStore implements ObjectStore {
  readonly description: string;
  readonly root: string;
  private readonly log: Logger | undefined;

  constructor(options: LocalObjectStoreOptions) {
    this.root = resolve(options.dir);
    this.description = `local directory ${this.root}`;
    this.log = options.log;
  }

  /** The file path of a key (validated: it cannot leave the root). */
  pathOf(key: string): string {
    validateKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, input: PutBody, opts: PutOptions = {}): Promise<PutResult> {
    const body = bodySource(input);
    const file = this.pathOf(key);
    const metadata = validateMetadata(opts.metadata);
    const dir = dirname(file);
    const name = file.slice(dir.length + 1);
    try {
      if (opts.ifAbsent === true && (await isFile(file))) throw exists(key, this.description);
      await this.ensureDir(dir);
      const tmp = join(dir, `.${name}.tmp-${randomBytes(8).toString('hex')}`);
      let sidecar: string | undefined;
      let committed = false;
      try {
        const fh = await open(tmp, 'wx', 0o644);
        let size = 0;
        let sha256: string;
        let ino: string;
        const written = createHash('sha256');
        try {
          if (Buffer.isBuffer(body)) {
            await fh.writeFile(body);
            written.update(body);
            size = body.length;
          } else {
            for await (const chunk of body()) {
              const buf = toBuffer(chunk);
              await writeAll(fh, buf);
              written.update(buf);
              size += buf.length;
            }
          }
          if (opts.contentLength !== undefined && size !== opts.contentLength) {
            throw lengthMismatch(key, opts.contentLength, size);
          }
          sha256 = written.digest('hex');
          if (opts.sha256 !== undefined && sha256 !== opts.sha256) {
            throw digestMismatch(key, opts.sha256, sha256);
          }
          await fh.sync();
          ino = (await fh.stat({ bigint: true })).ino.toString();
        } finally {
          await fh.close();
        }
        const etag = randomBytes(8).toString('hex');
        sidecar = sidecarPath(dir, name, ino);
        await writeDurable(sidecar, JSON.stringify({ size, etag, metadata } satisfies Sidecar));

        if (opts.ifAbsent === true) {
          try {
            await link(tmp, file);
          } catch (err) {
            if (errnoCode(err) === 'EEXIST') {
              if (await isFile(file)) throw exists(key, this.description);
              throw clash(key, err);
            }
            throw err;
          }
          committed = true;
          await this.bestEffortUnlink(tmp);
        } else {
          const old = await inodeOf(file);
          await rename(tmp, file);
          committed = true;
          if (old !== null && old !== ino) await this.bestEffortUnlink(sidecarPath(dir, name, old));
        }
        await fsyncDir(dir, { tolerant: true });
        return { etag, sha256 };
      } catch (err) {
        if (!committed) {
          await unlinkQuiet(tmp);
          if (sidecar !== undefined) await unlinkQuiet(sidecar);
        }
        throw err;
      }
    } catch (err) {
      throw this.mapError(err, 'put', key);
    }
  }

  async get(key: string): Promise<Buffer> {
    const file = this.pathOf(key);
    try {
      return await readFile(file);
    } catch (err) {
      if (isMissing(err)) throw notFound(key, this.description);
      throw this.mapError(err, 'get', key);
    }
  }

  async getRange(key: string, start: number, endInclusive: number): Promise<Buffer> {
    const file = this.pathOf(key);
    validateRange(key, start, endInclusive);
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if (isMissing(err)) throw notFound(key, this.description);
      throw this.mapError(err, 'getRange', key);
    }
    try {
      const { size } = await fh.stat();
      if (start >= size) throw rangeError(key, start, endInclusive, size);
      const length = Math.min(endInclusive, size - 1) - start + 1;
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      if (done < length) throw new Error(`short read: ${done} of ${length} bytes`);
      return buf;
    } catch (err) {
      throw this.mapError(err, 'getRange', key);
    } finally {
      await fh.close();
    }
  }

  async head(key: string): Promise<ObjectHead | null> {
    const file = this.pathOf(key);
    const dir = dirname(file);
    const name = file.slice(dir.length + 1);
    try {
      // Retry when the object is replaced between reading its inode and its sidecar.
      for (let attempt = 0; ; attempt++) {
        let st;
        try {
          st = await stat(file, { bigint: true });
        } catch (err) {
          if (isMissing(err)) return null;
          throw err;
        }
        if (!st.isFile()) return null;
        const ino = st.ino.toString();
        const sidecar = await readSidecar(sidecarPath(dir, name, ino));
        if (sidecar === null) {
          const again = await inodeOf(file);
          if (again !== ino && attempt < 5) continue;
          if (again === null) return null;
          // A file placed here by something else than put(): no metadata.
          return { size: Number(st.size), metadata: {} };
        }
        return { size: Number(st.size), metadata: sidecar.metadata, etag: sidecar.etag };
      }
    } catch (err) {
      throw this.mapError(err, 'head', key);
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(slash < 0 ? '' : prefix.slice(0, slash + 1), prefix);
  }

  async *listDirs(prefix: string): AsyncIterable<string> {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash < 0 ? '' : prefix.slice(0, slash + 1);
    const dirs = (await this.entriesOf(dirKey))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => `${dirKey}${e.name}/`)
      .filter((d) => d.startsWith(prefix))
      .sort(compareKeys);
    // Like S3: a directory counts only when some key lies below it (not an empty leftover).
    for (const d of dirs) {
      for await (const _ of this.walk(d, d)) {
        yield d;
        break;
      }
    }
  }

  /** The entries of the directory of `dirKey` ('' or ending in '/'); none when it is missing. */
  private async entriesOf(dirKey: string): Promise<Dirent[]> {
    try {
      return await readdir(join(this.root, ...dirKey.split('/')), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return [];
      throw this.mapError(err, 'list', dirKey);
    }
  }

  /** Keys under `dirKey` ('' or ending in '/') that start with `prefix`, in byte order. */
  private async *walk(dirKey: string, prefix: string): AsyncGenerator<ListedObject> {
    const entries = await this.entriesOf(dirKey);
    // A directory "d" sorts as "d/": every key below it starts with "d/", so sorting entries
    // this way per directory yields the same order as sorting the full keys.
    const items = entries
      .filter((e) => !e.name.startsWith('.') && (e.isFile() || e.isDirectory()))
      .map((e) => `${e.name}${e.isDirectory() ? '/' : ''}`)
      .sort(compareKeys);
    for (const item of items) {
      const key = dirKey + item;
      if (item.endsWith('/')) {
        if (key.startsWith(prefix) || prefix.startsWith(key)) yield* this.walk(key, prefix);
      } else if (key.startsWith(prefix)) {
        let size: number;
        try {
          size = (await stat(join(this.root, ...key.split('/')))).size;
        } catch (err) {
          if (isMissing(err)) continue; // deleted while listing
          throw this.mapError(err, 'list', key);
        }
        yield { key, size };
      }
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.pathOf(key);
    const dir = dirname(file);
    const name = file.slice(dir.length + 1);
    try {
      let st;
      try {
        st = await stat(file, { bigint: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      if (!st.isFile()) return;
      await unlinkQuiet(file);
      await unlinkQuiet(sidecarPath(dir, name, st.ino.toString()));
      await fsyncDir(dir, { tolerant: true });
    } catch (err) {
      throw this.mapError(err, 'delete', key);
    }
  }

  async checkAccess(): Promise<void> {
    try {
      await this.ensureDir(this.root);
      await access(this.root, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      throw this.mapError(err, 'checkAccess', '');
    }
  }

  async close(): Promise<void> {}

  /** mkdir -p, then fsync the parent of every directory it created. */
  private async ensureDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true });
    if (first === undefined) return;
    for (let d = dir; ; d = dirname(d)) {
      await fsyncDir(dirname(d), { tolerant: true });
      if (d === first || d === dirname(d)) break;
    }
  }

  private async bestEffortUnlink(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') {
        this.log?.warn({ path, err }, 'could not remove a leftover file in the local object store');
      }
    }
  }

  private mapError(err: unknown, op: string, key: string): ArchiveError {
    if (err instanceof ArchiveError) return err;
    const code = errnoCode(err);
    const what = `${op} ${key === '' ? this.root : key} in ${this.description}`;
    const reason = err instanceof Error ? err.message : String(err);
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return new ArchiveError(ErrorCodes.DISK_FULL, `${what}: no space left on device`, {
        retryable: true,
        cause: err,
        details: { errno: code },
      });
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return new ArchiveError(
        ErrorCodes.STORAGE_AUTH,
        `${what}: permission denied (${code}); check the owner and mode of ${this.root} (storage.local.dir)`,
        { cause: err, details: { errno: code } },
      );
    }
    // EEXIST here comes from mkdir over a file (link's EEXIST is handled in put).
    if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') return clash(key, err);
    return new ArchiveError(ErrorCodes.STORAGE_UNAVAILABLE, `${what} failed: ${reason}`, {
      retryable: true,
      cause: err,
      details: code === undefined ? undefined : { errno: code },
    });
  }
}

function sidecarPath(dir: string, name: string, ino: string): string {
  return join(dir, `.${name}.meta-${ino}.json`);
}

function clash(key: string, cause: unknown): ArchiveError {
  return new ArchiveError(
    ErrorCodes.STORAGE_KEY_INVALID,
    `object key ${key} clashes with an existing directory or object in the local store (one key is a path prefix of another)`,
    { cause, details: { key } },
  );
}

function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

async function inodeOf(path: string): Promise<string | null> {
  try {
    const st = await stat(path, { bigint: true });
    return st.isFile() ? st.ino.toString() : null;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

async function readSidecar(path: string): Promise<Sidecar | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<Sidecar>;
    if (typeof v.etag !== 'string' || v.metadata === null || typeof v.metadata !== 'object') {
      throw new Error('missing fields');
    }
    return { size: Number(v.size), etag: v.etag, metadata: v.metadata };
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.STORAGE_UNAVAILABLE,
      `unreadable metadata file ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function writeDurable(path: string, text: string): Promise<void> {
  const fh = await open(path, 'w', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done);
    done += bytesWritten;
  }
}

async function unlinkQuiet(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}
