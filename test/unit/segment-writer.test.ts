/** The segment writer (encoder thread) and reader, without a broker: byte-exact round trip. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import {
  contentSha256,
  localFileBuffer,
  openSegment,
  readSegmentRecords,
  SegmentWriter,
  type KafkaRecord,
} from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ka-writer-unit-'));
const writer = new SegmentWriter();
afterAll(async () => {
  await writer.close();
  rmSync(dir, { recursive: true, force: true });
});

function facts(records: KafkaRecord[]) {
  const ts = records.map((r) => r.timestamp);
  return {
    topic: 't',
    partition: 0,
    firstOffset: records[0]!.offset,
    lastOffset: records[records.length - 1]!.offset,
    minTimestamp: ts.reduce((a, b) => (a < b ? a : b)),
    maxTimestamp: ts.reduce((a, b) => (a > b ? a : b)),
    recordCount: records.length,
    rangeStart: records[0]!.offset,
    rangeEnd: records[records.length - 1]!.offset,
  };
}

describe('SegmentWriter', () => {
  it('writes what it was given, byte for byte, with the content checksum in the footer', async () => {
    // Enough records for several 4 MiB slices, with every kind of field.
    const records: KafkaRecord[] = Array.from({ length: 12_000 }, (_, i) => ({
      offset: 1_000_000n + BigInt(i),
      timestamp: 1_700_000_000_000n + BigInt(i % 997),
      timestampType: i % 2 === 0 ? 0 : 1,
      key: i % 5 === 0 ? null : Buffer.from(`key-${i}`),
      value: i % 7 === 0 ? null : i % 11 === 0 ? Buffer.alloc(0) : Buffer.alloc(1024, i % 256),
      headers:
        i % 3 === 0
          ? [
              { key: 'h', value: Buffer.from([i % 256]) },
              { key: 'x', value: null },
              { key: 'h', value: Buffer.alloc(0) },
            ]
          : [],
    }));
    const path = join(dir, 'seg.parquet');
    const res = await writer.write(path, records, facts(records), {
      compression: 'zstd',
      rowGroupBytes: 1 << 20,
    });
    expect(res.meta.sha256).toBe(contentSha256(records));
    const seg = await openSegment(await localFileBuffer(path));
    expect(seg.meta).toEqual(res.meta);
    const back: KafkaRecord[] = [];
    for await (const r of readSegmentRecords(seg)) back.push(r);
    expect(back.length).toBe(records.length);
    // Every field of every record (the canonical encoding covers them all), then a few in full.
    expect(contentSha256(back)).toBe(contentSha256(records));
    for (const i of [0, 1, 3, 5, 7, 11, 33, 11_999]) expect(back[i]).toEqual(records[i]);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]); // no temp left
  });

  it('every codec gives a file DuckDB reads with the archive column types and the same records', async () => {
    const records: KafkaRecord[] = Array.from({ length: 5_000 }, (_, i) => ({
      offset: 10n + BigInt(i) * 2n,
      timestamp: 1_700_000_000_000n + BigInt(i),
      timestampType: (i % 2) as 0 | 1,
      key: i % 4 === 0 ? null : Buffer.from(`k${i % 50}`),
      value: i % 9 === 0 ? null : Buffer.from(`value ${i} `.repeat(1 + (i % 40))),
      headers: i % 2 === 0 ? [{ key: 'trace', value: Buffer.from([i % 256, 0, 255]) }] : [],
    }));
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      for (const compression of ['zstd', 'snappy', 'none'] as const) {
        const path = join(dir, `codec-${compression}.parquet`);
        // Small row groups: several in the file, each pruned by its offset statistics.
        await writer.write(path, records, facts(records), { compression, rowGroupBytes: 64 << 10 });
        const seg = await openSegment(await localFileBuffer(path));
        expect(seg.parquet.row_groups.length).toBeGreaterThan(1);
        const columns = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
        expect(columns.getRowObjectsJS().map((c) => `${c.column_name} ${c.column_type}`)).toEqual([
          'offset BIGINT',
          'timestamp BIGINT',
          'timestamp_type INTEGER',
          'key BLOB',
          'value BLOB',
          'headers STRUCT("key" VARCHAR, "value" BLOB)[]',
        ]);
        const agg = await con.runAndReadAll(
          `SELECT count(*)::INTEGER AS n, sum(octet_length("value"))::BIGINT AS bytes, count("key")::INTEGER AS keys,
                  sum(len(headers))::INTEGER AS hs, max("offset") AS last FROM read_parquet('${path}')`,
        );
        const [row] = agg.getRowObjectsJS();
        expect(row).toEqual({
          n: records.length,
          bytes: BigInt(records.reduce((a, r) => a + (r.value?.length ?? 0), 0)),
          keys: records.filter((r) => r.key !== null).length,
          hs: records.filter((r) => r.headers.length > 0).length,
          last: records[records.length - 1]!.offset,
        });
        const codecs = await con.runAndReadAll(
          `SELECT DISTINCT compression FROM parquet_metadata('${path}')`,
        );
        expect(codecs.getRowObjectsJS().map((c) => c.compression)).toEqual([
          { zstd: 'ZSTD', snappy: 'SNAPPY', none: 'UNCOMPRESSED' }[compression],
        ]);
        const back: KafkaRecord[] = [];
        for await (const r of readSegmentRecords(seg)) back.push(r);
        expect(seg.meta.sha256).toBe(contentSha256(records));
        expect(contentSha256(back)).toBe(seg.meta.sha256);
      }
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });

  it('a failed write leaves no file and says why; the next write works', async () => {
    const records: KafkaRecord[] = [
      { offset: 0n, timestamp: 0n, timestampType: 0, key: null, value: null, headers: [] },
    ];
    await expect(
      writer.write(join(dir, 'missing-dir', 'seg.parquet'), records, facts(records), {
        compression: 'zstd',
        rowGroupBytes: 1 << 20,
      }),
    ).rejects.toMatchObject({ code: 'SEGMENT_WRITE_FAILED' });
    const ok = join(dir, 'ok.parquet');
    await writer.write(ok, records, facts(records), {
      compression: 'snappy',
      rowGroupBytes: 1 << 20,
    });
    expect((await openSegment(await localFileBuffer(ok))).meta.recordCount).toBe(1);
  });

  it('refuses records out of offset order (rows are written as given, never sorted)', async () => {
    const rec = (offset: bigint): KafkaRecord => ({
      offset,
      timestamp: 0n,
      timestampType: 0,
      key: null,
      value: Buffer.from('v'),
      headers: [],
    });
    const records = [rec(5n), rec(7n), rec(6n)];
    await expect(
      writer.write(join(dir, 'unordered.parquet'), records, facts(records), {
        compression: 'zstd',
        rowGroupBytes: 1 << 20,
      }),
    ).rejects.toThrow(/out of offset order at 6/);
    expect(readdirSync(dir).filter((n) => n.startsWith('unordered') || n.startsWith('.'))).toEqual(
      [],
    );
  });
});
