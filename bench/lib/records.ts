/**
 * Deterministic, realistic-ish Kafka records for the benchmarks: ZTF-like JSON alert values
 * (field names, object ids, coordinates and enumerations repeat; measurements are random; a
 * short random base64 "cutout" tail is incompressible), 16-byte keys drawn from a pool of object
 * ids, and 1-3 headers (content type, schema version, a binary 16-byte trace id).
 * The same seed gives the same records in every process.
 */
import type { KafkaRecord, KafkaHeader } from '../../src/record.js';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const CONTENT_TYPE = Buffer.from('application/json');
const SCHEMA_VERSION = Buffer.from('ztf-4.02');

interface AstroObject {
  id: string; // 16 characters: also the record key
  ra: string;
  dec: string;
  field: number;
}

export interface GeneratorOptions {
  valueBytes: number;
  seed?: number;
  /** Distinct object ids (keys); records pick one at random. */
  objects?: number;
  baseTimestampMs?: number;
}

export class RecordGenerator {
  private readonly rng: () => number;
  private readonly objects: AstroObject[] = [];
  private readonly valueBytes: number;
  private ts: number;

  constructor(options: GeneratorOptions) {
    this.rng = mulberry32(options.seed ?? 42);
    this.valueBytes = options.valueBytes;
    this.ts = options.baseTimestampMs ?? Date.UTC(2026, 0, 1);
    const n = options.objects ?? 5000;
    for (let i = 0; i < n; i++) {
      let id = 'ZTF2';
      id += String(1 + Math.floor(this.rng() * 6));
      for (let j = 0; j < 11; j++) id += LETTERS[Math.floor(this.rng() * 26)];
      this.objects.push({
        id,
        ra: (this.rng() * 360).toFixed(6),
        dec: (this.rng() * 120 - 30).toFixed(6),
        field: 200 + Math.floor(this.rng() * 700),
      });
    }
  }

  private num(scale: number, digits: number): string {
    return (this.rng() * scale).toFixed(digits);
  }

  private value(obj: AstroObject, candid: number): Buffer {
    const r = this.rng;
    const fid = 1 + Math.floor(r() * 3);
    let s =
      `{"schemavsn":"4.02","publisher":"ZTF (www.ztf.caltech.edu)","objectId":"${obj.id}",` +
      `"candid":${candid},"candidate":{"jd":${(2461041.5 + r() * 30).toFixed(6)},"fid":${fid},` +
      `"pid":${Math.floor(r() * 1e12)},"diffmaglim":${(19 + r() * 2).toFixed(3)},"programid":1,` +
      `"field":${obj.field},"ra":${obj.ra},"dec":${obj.dec},"magpsf":${(14 + r() * 7).toFixed(4)},` +
      `"sigmapsf":${this.num(0.3, 4)},"isdiffpos":"${r() < 0.8 ? 't' : 'f'}","rb":${this.num(1, 4)},` +
      `"drb":${this.num(1, 4)},"ndethist":${Math.floor(r() * 40)}},"prv_candidates":[`;
    const target = this.valueBytes;
    const tail = '],"cutoutDifference":"';
    const end = '"}';
    // Earlier detections of the object while there is room, then a random base64 tail (at least
    // 48 characters when the size allows) to fill the value to exactly `valueBytes`.
    let first = true;
    for (;;) {
      const prv =
        `${first ? '' : ','}{"jd":${(2461000.5 + r() * 40).toFixed(6)},"fid":${1 + Math.floor(r() * 3)},` +
        `"magpsf":${(14 + r() * 7).toFixed(4)},"diffmaglim":${(19 + r() * 2).toFixed(3)}}`;
      if (s.length + prv.length + tail.length + end.length + 48 > target) break;
      s += prv;
      first = false;
    }
    s += tail;
    const fill = target - s.length - end.length;
    for (let i = 0; i < fill; i++) s += B64[Math.floor(r() * 64)];
    s += end;
    const buf = Buffer.from(s, 'latin1');
    return buf.length > target ? buf.subarray(0, target) : buf;
  }

  /** The next record; `offset` is the Kafka offset it gets in a segment. */
  next(offset: bigint): KafkaRecord {
    const r = this.rng;
    const obj = this.objects[Math.floor(r() * this.objects.length)] as AstroObject;
    this.ts += Math.floor(r() * 3);
    const headers: KafkaHeader[] = [{ key: 'content-type', value: CONTENT_TYPE }];
    if (r() < 0.6) headers.push({ key: 'schema-version', value: SCHEMA_VERSION });
    if (r() < 0.4) {
      const trace = Buffer.allocUnsafe(16);
      for (let i = 0; i < 16; i++) trace[i] = Math.floor(r() * 256);
      headers.push({ key: 'trace-id', value: trace });
    }
    return {
      offset,
      timestamp: BigInt(this.ts),
      timestampType: 0,
      key: Buffer.from(obj.id, 'latin1'),
      value: this.value(obj, 2_500_000_000_000 + Number(offset)),
      headers,
    };
  }
}

export function generateRecords(count: number, options: GeneratorOptions): KafkaRecord[] {
  const gen = new RecordGenerator(options);
  const out: KafkaRecord[] = new Array<KafkaRecord>(count);
  for (let i = 0; i < count; i++) out[i] = gen.next(BigInt(i));
  return out;
}

/** Payload bytes of a record: key + value + header keys and values (what a user "archives"). */
export function payloadBytes(r: KafkaRecord): number {
  let n = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return n;
}
