/**
 * Plain kafkajs for the benchmark's own producer, admin and baseline consumer: no product code,
 * only an LZ4 codec (kafkajs ships gzip only), through the same lz4-napi library the product
 * uses. Do not load src/kafka in a process that uses this module: the product wraps kafkajs'
 * record decoder before kafkajs is first loaded, and refuses to start if it was loaded already.
 */
import { createRequire } from 'node:module';
import { compressFrame, decompressFrame } from 'lz4-napi';
import type * as KafkaJS from 'kafkajs';

const require = createRequire(import.meta.url);

type Codec = () => {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};

export function loadKafkajs(): typeof KafkaJS {
  const kafkajs = require('kafkajs') as typeof KafkaJS;
  const codecs = kafkajs.CompressionCodecs as unknown as Record<number, Codec>;
  codecs[kafkajs.CompressionTypes.LZ4] = () => ({
    compress: (encoder) => compressFrame(encoder.buffer),
    decompress: (buffer) => decompressFrame(buffer),
  });
  return kafkajs;
}

export function newKafka(kafkajs: typeof KafkaJS, brokers: string[], clientId: string) {
  return new kafkajs.Kafka({
    clientId,
    brokers,
    logLevel: kafkajs.logLevel.ERROR,
    connectionTimeout: 10_000,
    requestTimeout: 60_000,
  });
}

/** The consumer settings the product uses (src/kafka/kafkajs/client.ts, `kafka.fetch.*` defaults), for a like-for-like baseline. */
export const PRODUCT_FETCH = {
  readUncommitted: false,
  allowAutoTopicCreation: false,
  maxBytesPerPartition: 1024 * 1024,
  maxBytes: 4 * 1024 * 1024,
  sessionTimeout: 30_000,
  rebalanceTimeout: 60_000,
  heartbeatInterval: 3_000,
} as const;

/** "0:123,1:456" <-> Map(partition -> high-water mark). */
export function encodeHwm(hwm: Map<number, number>): string {
  return [...hwm].map(([p, h]) => `${p}:${h}`).join(',');
}

export function decodeHwm(s: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const part of s.split(',')) {
    const [p, h] = part.split(':');
    out.set(Number(p), Number(h));
  }
  return out;
}

/** Linux: peak RSS (VmHWM, bytes) and CPU seconds (user + system) of a process, or null. */
export async function procStats(
  pid: number,
): Promise<{ peakRssBytes: number; cpuSeconds: number } | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { peakRssBytes: Number(hwm?.[1] ?? 0) * 1024, cpuSeconds: ticks / 100 };
  } catch {
    return null;
  }
}
