import type { DuckDBBlobValue, DuckDBListValue, DuckDBStructValue } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { KafkaHeader } from '../../src/kafka/index.js';
import {
  archivedOffsets,
  Catalog,
  createLogger,
  hotSource,
  LocalSegmentIndex,
  reconcileHot,
  type PartitionOffsets,
} from '../../src/index.js';

/** One archived record as an independent reader (DuckDB or pyarrow) sees it. */
export interface ReadRecord {
  partition: number;
  offset: bigint;
  timestamp: bigint;
  timestampType: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
  file: string;
}

const blob = (v: unknown): Buffer | null =>
  v === null || v === undefined ? null : Buffer.from((v as DuckDBBlobValue).bytes);

/** Every record of a topic in a hot directory, read with DuckDB's read_parquet. */
export async function readWithDuckDB(hotDir: string, topic: string): Promise<ReadRecord[]> {
  const glob = join(hotDir, `topic=${topic}`, '*', '*.parquet');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const reader = await con.runAndReadAll(
      `SELECT partition, "offset", "timestamp", timestamp_type, "key", "value", headers, filename
       FROM read_parquet('${glob}', hive_partitioning = true, filename = true)
       ORDER BY partition, "offset"`,
    );
    return reader.getRows().map((row) => {
      const [partition, offset, timestamp, tsType, key, value, headers, file] = row;
      const list = headers === null ? [] : (headers as DuckDBListValue).items;
      return {
        partition: Number(partition),
        offset: offset as bigint,
        timestamp: timestamp as bigint,
        timestampType: Number(tsType),
        key: blob(key),
        value: blob(value),
        headers: list.map((h) => {
          const e = (h as DuckDBStructValue).entries;
          return { key: String(e.key), value: blob(e.value) };
        }),
        file: String(file),
      };
    });
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

const PYTHON = join(import.meta.dirname, '../../.cache/pyenv/bin/python');

export function pyarrowAvailable(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import pyarrow'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Records of one segment file read by pyarrow (an independent Parquet implementation). */
export function readWithPyarrow(file: string): Array<Omit<ReadRecord, 'partition' | 'file'>> {
  const script = `
import sys, json, base64, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
b = lambda v: None if v is None else base64.b64encode(v).decode()
out = []
for r in t.to_pylist():
    out.append({"offset": str(r["offset"]), "timestamp": str(r["timestamp"]), "timestampType": r["timestamp_type"],
                "key": b(r["key"]), "value": b(r["value"]),
                "headers": [{"key": h["key"], "value": b(h["value"])} for h in (r["headers"] or [])]})
md = {k.decode(): v.decode() for k, v in (pq.read_metadata(sys.argv[1]).metadata or {}).items()}
print(json.dumps({"rows": out, "meta": md}))
`;
  const out = JSON.parse(
    execFileSync(PYTHON, ['-c', script, file], { maxBuffer: 1 << 30 }).toString(),
  ) as {
    rows: Array<{
      offset: string;
      timestamp: string;
      timestampType: number;
      key: string | null;
      value: string | null;
      headers: Array<{ key: string; value: string | null }>;
    }>;
  };
  const dec = (s: string | null) => (s === null ? null : Buffer.from(s, 'base64'));
  return out.rows.map((r) => ({
    offset: BigInt(r.offset),
    timestamp: BigInt(r.timestamp),
    timestampType: r.timestampType,
    key: dec(r.key),
    value: dec(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: dec(h.value) })),
  }));
}

/** Poll until `fn` returns true, or fail after `timeoutMs` with `what`. */
export async function waitFor(
  what: string,
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Archived offsets of a topic computed from the hot directory's segment files alone. */
export async function archivedFromHot(hotDir: string, topic: string): Promise<PartitionOffsets[]> {
  const catalog = Catalog.memory();
  await reconcileHot(catalog, new LocalSegmentIndex(hotDir), createLogger({ level: 'silent' }));
  return archivedOffsets(catalog, hotSource(hotDir), topic);
}
