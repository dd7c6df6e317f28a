/**
 * Target partitions for `--repartition`: `by-key` uses the Java client's partitioner
 * (murmur2 of the key bytes, made positive, modulo the partition count), so records keep the
 * key-to-partition mapping every Kafka client expects; records without a key, and
 * `round-robin`, spread by original offset (deterministic, so a resumed job places records as
 * the first run would have).
 */
export type RepartitionMode = 'by-key' | 'round-robin';

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as a signed 32-bit int. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = seed ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4]! & 0xff) |
      ((data[i4 + 1]! & 0xff) << 8) |
      ((data[i4 + 2]! & 0xff) << 16) |
      ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const rest = length & 3;
  const base = length & ~3;
  if (rest === 3) h ^= (data[base + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[base + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[base]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function targetPartition(
  mode: RepartitionMode,
  key: Buffer | null,
  sourcePartition: number,
  offset: bigint,
  partitions: number,
): number {
  if (mode === 'by-key' && key !== null) return (murmur2(key) & 0x7fffffff) % partitions;
  return Number((offset + BigInt(sourcePartition)) % BigInt(partitions));
}
