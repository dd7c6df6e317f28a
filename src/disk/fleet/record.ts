/**
 * The record a `disk agent` publishes to the fleet topic (disk.fleet.topic, compacted): one per
 * broker and log.dir, key `<brokerId>|<logDir>` (UTF-8), value JSON, version field `v`.
 *
 *   key    "1|/var/lib/kafka/data"
 *   value  { "v":1, "brokerId":1, "logDir":"/var/lib/kafka/data", "host":"kafka-1",
 *            "at":1764600000000, "intervalMs":60000, "sizeBytes":…, "usedBytes":…,
 *            "availableBytes":…, "usedPercent":71.2, "state":"ok",
 *            "reserves":{"armed":2,"total":2,"bytes":536870912}, "logBytes":…, "indexBytes":…,
 *            "partitions":42, "headroom":{"survives":true,"needsBytes":…,"hasBytes":…},
 *            "growthBytesPerDay":1234567 | null }
 *
 * Readers accept any version >= 1 that carries the v1 fields (later versions only add fields)
 * and skip values they cannot read (counted, never fatal): the topic is shared by every agent.
 */
import type { WatermarkState } from '../volume.js';

export const FLEET_RECORD_VERSION = 1;

export interface FleetRecord {
  v: number;
  brokerId: number;
  logDir: string;
  host: string;
  /** When the sample was taken (ms since the epoch). */
  at: number;
  /** The agent's publish interval: readers judge staleness by it. */
  intervalMs: number;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
  usedPercent: number;
  state: WatermarkState;
  reserves: { armed: number; total: number; bytes: number };
  /** Bytes of .log files, and of .index + .timeindex files (allocated). */
  logBytes: number;
  indexBytes: number;
  partitions: number;
  /** Unclean-restart headroom: survives = hasBytes >= needsBytes (reserves released). */
  headroom: { survives: boolean; needsBytes: number; hasBytes: number };
  growthBytesPerDay: number | null;
}

const STATES: readonly WatermarkState[] = ['ok', 'low', 'high', 'flood'];

/** The record key of a broker's log.dir. */
export function fleetKey(brokerId: number, logDir: string): string {
  return `${brokerId}|${logDir}`;
}

export function encodeFleetRecord(r: FleetRecord): { key: Buffer; value: Buffer } {
  return {
    key: Buffer.from(fleetKey(r.brokerId, r.logDir), 'utf8'),
    value: Buffer.from(JSON.stringify(r), 'utf8'),
  };
}

export type DecodeResult = { ok: true; record: FleetRecord } | { ok: false; reason: string };

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isCount = (x: unknown): x is number => isNum(x) && Number.isInteger(x) && x >= 0;

/** The first field of `o` that is not as the v1 schema says, or null. */
function invalidField(o: Record<string, unknown>): string | null {
  if (!isNum(o.v) || !Number.isInteger(o.v) || o.v < 1) return 'v';
  if (!isCount(o.brokerId)) return 'brokerId';
  if (typeof o.logDir !== 'string' || o.logDir === '') return 'logDir';
  if (typeof o.host !== 'string') return 'host';
  for (const k of ['at', 'intervalMs', 'sizeBytes', 'usedBytes', 'availableBytes'] as const)
    if (!isCount(o[k])) return k;
  if (!isNum(o.usedPercent)) return 'usedPercent';
  if (typeof o.state !== 'string' || !STATES.includes(o.state as WatermarkState)) return 'state';
  const r = o.reserves as Record<string, unknown> | null | undefined;
  if (typeof r !== 'object' || r === null) return 'reserves';
  for (const k of ['armed', 'total', 'bytes'] as const) if (!isCount(r[k])) return `reserves.${k}`;
  for (const k of ['logBytes', 'indexBytes', 'partitions'] as const) if (!isCount(o[k])) return k;
  const h = o.headroom as Record<string, unknown> | null | undefined;
  if (typeof h !== 'object' || h === null) return 'headroom';
  if (typeof h.survives !== 'boolean') return 'headroom.survives';
  if (!isCount(h.needsBytes)) return 'headroom.needsBytes';
  if (!isCount(h.hasBytes)) return 'headroom.hasBytes';
  if (o.growthBytesPerDay !== null && !isNum(o.growthBytesPerDay)) return 'growthBytesPerDay';
  return null;
}

/**
 * A record value read from the topic. `key`, when given, must match the value's broker and
 * log.dir (a record published under another key is not trusted).
 */
export function decodeFleetRecord(value: Buffer | null, key?: Buffer | null): DecodeResult {
  if (value === null) return { ok: false, reason: 'tombstone (null value)' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'value is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { ok: false, reason: 'value is not a JSON object' };
  const o = parsed as Record<string, unknown>;
  const bad = invalidField(o);
  if (bad !== null) return { ok: false, reason: `field ${bad} missing or invalid` };
  const rec = o as unknown as FleetRecord;
  if (key !== undefined && key !== null) {
    const want = fleetKey(rec.brokerId, rec.logDir);
    if (key.toString('utf8') !== want)
      return { ok: false, reason: `key ${JSON.stringify(key.toString('utf8'))} is not ${want}` };
  }
  const record: FleetRecord = {
    v: rec.v,
    brokerId: rec.brokerId,
    logDir: rec.logDir,
    host: rec.host,
    at: rec.at,
    intervalMs: rec.intervalMs,
    sizeBytes: rec.sizeBytes,
    usedBytes: rec.usedBytes,
    availableBytes: rec.availableBytes,
    usedPercent: rec.usedPercent,
    state: rec.state,
    reserves: { armed: rec.reserves.armed, total: rec.reserves.total, bytes: rec.reserves.bytes },
    logBytes: rec.logBytes,
    indexBytes: rec.indexBytes,
    partitions: rec.partitions,
    headroom: {
      survives: rec.headroom.survives,
      needsBytes: rec.headroom.needsBytes,
      hasBytes: rec.headroom.hasBytes,
    },
    growthBytesPerDay: rec.growthBytesPerDay,
  };
  return { ok: true, record };
}
