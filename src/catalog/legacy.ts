import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ArchiveError, ErrorCodes } from '../errors.js';
import { isPackedEntry, unpack, type CatalogEntry, type PackedEntry } from './entry.js';

/**
 * The catalog format before SQLite (up to 0.x): snapshot.jsonl + log.jsonl in the catalog
 * directory. Only read, to migrate it (a writer) or to serve a reader until the service has
 * migrated it.
 *
 *   snapshot.jsonl   header {"format":"kafka-archive-catalog","version":1,"seq":N}, then one
 *                    packed entry per line
 *   log.jsonl        one change per line: <json>\t<8 hex of sha1(json)>, json = {"s":seq,"op":..};
 *                    a torn or corrupt line ends replay
 */
export const LEGACY_SNAPSHOT = 'snapshot.jsonl';
export const LEGACY_LOG = 'log.jsonl';
const FORMAT = 'kafka-archive-catalog';
const VERSION = 1;

type LogOp =
  | { s: number; op: 'put'; e: PackedEntry }
  | { s: number; op: 'del'; k: [string, number, string, string] };

export interface LegacySink {
  put(e: CatalogEntry): void;
  remove(key: { topic: string; partition: number; firstOffset: bigint; lastOffset: bigint }): void;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const checksum = (json: string) => createHash('sha1').update(json).digest('hex').slice(0, 8);

export async function legacyExists(dir: string): Promise<boolean> {
  return (
    (await stat(join(dir, LEGACY_SNAPSHOT)).catch(() => null)) !== null ||
    (await stat(join(dir, LEGACY_LOG)).catch(() => null)) !== null
  );
}

/** Streams the legacy catalog's entries into `sink` (snapshot, then the log's valid lines). */
export async function readLegacy(dir: string, sink: LegacySink): Promise<void> {
  const path = join(dir, LEGACY_SNAPSHOT);
  let snapshotSeq = 0;
  if ((await stat(path).catch(() => null)) !== null) {
    const corrupt = (lineNo: number, why: string) =>
      new ArchiveError(
        ErrorCodes.CATALOG_CORRUPT,
        `${path} line ${lineNo}: ${why}; rebuild the catalog with \`kafka-archive catalog rebuild\``,
        { details: { path, line: lineNo } },
      );
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (lineNo === 1) {
        const h = parseJson(line) as { format?: string; version?: number; seq?: number } | null;
        if (h?.format !== FORMAT || h.version !== VERSION || typeof h.seq !== 'number') {
          throw corrupt(lineNo, `not a version ${VERSION} kafka-archive catalog header`);
        }
        snapshotSeq = h.seq;
        continue;
      }
      if (line.length === 0) continue;
      const e = parseJson(line);
      if (!isPackedEntry(e)) throw corrupt(lineNo, 'not a catalog entry');
      sink.put(unpack(e));
    }
  }
  let text: string;
  try {
    text = await readFile(join(dir, LEGACY_LOG), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) break; // torn last line
    const line = text.slice(pos, nl);
    const tab = line.lastIndexOf('\t');
    const json = tab < 0 ? '' : line.slice(0, tab);
    if (tab < 0 || checksum(json) !== line.slice(tab + 1)) break;
    const op = parseJson(json) as LogOp | null;
    if (op === null) break;
    if (op.s > snapshotSeq) {
      if (op.op === 'put') {
        if (!isPackedEntry(op.e)) break;
        sink.put(unpack(op.e));
      } else {
        const [topic, partition, first, last] = op.k;
        sink.remove({ topic, partition, firstOffset: BigInt(first), lastOffset: BigInt(last) });
      }
    }
    pos = nl + 1;
  }
}

/** Removes the legacy files (after their content is committed in the new catalog). */
export async function removeLegacy(dir: string): Promise<void> {
  for (const f of [LEGACY_SNAPSHOT, LEGACY_LOG, `.${LEGACY_SNAPSHOT}.tmp`]) {
    await unlink(join(dir, f)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}
