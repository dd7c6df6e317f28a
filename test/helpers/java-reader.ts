import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KafkaHeader } from '../../src/index.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

/** One record as the Java client read it. */
export interface JavaRecord {
  partition: number;
  offset: bigint;
  timestamp: bigint;
  timestampType: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaHeader[];
}

/**
 * Every committed record of a topic, read by the official Java client (an implementation
 * independent of the product's kafkajs adapter), in partition and offset order.
 */
export async function readWithJava(
  brokers: string,
  topic: string,
  kafkaVersion: string,
): Promise<JavaRecord[]> {
  const cp = join(ROOT, '.cache/kafka', kafkaVersion, 'libs/*');
  const { stdout } = await run(
    'java',
    ['-Xmx512m', '-cp', cp, join(ROOT, 'test/helpers/java/DumpTopic.java'), brokers, topic],
    { maxBuffer: 1 << 30, timeout: 120_000 },
  );
  const dec = (s: string | null) => (s === null ? null : Buffer.from(s, 'base64'));
  const out = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const o = JSON.parse(l, (k, v: unknown, ctx?: { source?: string }) =>
        (k === 'offset' || k === 'timestamp') && ctx?.source !== undefined ? BigInt(ctx.source) : v,
      ) as {
        partition: number;
        offset: bigint;
        timestamp: bigint;
        timestampType: string;
        key: string | null;
        value: string | null;
        headers: Array<[string, string | null]>;
      };
      return {
        partition: o.partition,
        offset: o.offset,
        timestamp: o.timestamp,
        timestampType: o.timestampType,
        key: dec(o.key),
        value: dec(o.value),
        headers: o.headers.map(([key, value]) => ({ key, value: dec(value) })),
      };
    });
  return out.sort(
    (a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
  );
}
