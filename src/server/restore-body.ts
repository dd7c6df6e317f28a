import type { IncomingMessage } from 'node:http';
import { ArchiveError, ErrorCodes } from '../errors.js';
import type { OptionLabel, OptionName, RestoreInput } from '../restore/index.js';

/**
 * The JSON body of POST /api/restores, turned into the text forms of the CLI's options
 * (RestoreInput) so one parser (src/restore/options.ts) checks both. Here only the JSON shape is
 * checked: known fields, their types; every mistake a USAGE error naming the field.
 */

/** Largest request body read. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The API's spelling of an option in messages: the body field. */
export const apiLabel: OptionLabel = (n) => n;

const usage = (message: string) => new ArchiveError(ErrorCodes.USAGE, message);

/** The body, read whole (up to MAX_BODY_BYTES) and parsed as JSON. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim();
  if (type !== 'application/json')
    throw usage(`content-type: got ${JSON.stringify(type)}: expected application/json`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw usage(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw usage('request body: empty; expected a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw usage(`request body: not JSON: ${(err as Error).message}`);
  }
}

type Kind = 'text' | 'flag' | 'number' | 'partitions' | 'bound' | 'map';

const FIELDS: Record<OptionName, Kind> = {
  partitions: 'partitions',
  generation: 'number',
  from: 'number',
  to: 'number',
  startOffset: 'bound',
  endOffset: 'bound',
  targetTopic: 'text',
  topicMap: 'map',
  targetBrokers: 'text',
  replicationFactor: 'number',
  repartition: 'text',
  append: 'flag',
  offsetHeader: 'flag',
  allowGaps: 'flag',
  job: 'text',
  dryRun: 'flag',
  verify: 'flag',
  rate: 'number',
  rateRecords: 'number',
  concurrency: 'number',
  compression: 'text',
  batchBytes: 'number',
  batchRecords: 'number',
};

/** Fields the API does not take: the target cluster is the service's (restore.target). */
const NOT_HERE = new Set<string>(['targetBrokers']);

export const RESTORE_FIELDS = ['topic', ...Object.keys(FIELDS).filter((f) => !NOT_HERE.has(f))];

const MAX_TEXT = 1024;
/** Kafka topic names are at most 249 characters. */
const MAX_TOPIC = 249;

const kindOf = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;

function text(name: string, v: unknown, max = MAX_TEXT): string {
  if (typeof v !== 'string' || v === '')
    throw usage(
      `${name}: got ${kindOf(v)}${v === '' ? ' (empty)' : ''}: expected a non-empty string`,
    );
  if (v.length > max) throw usage(`${name}: longer than ${max} characters`);
  return v;
}

function whole(name: string, v: unknown): string {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && v !== '') return text(name, v);
  throw usage(
    `${name}: got ${typeof v === 'number' ? String(v) : kindOf(v)}: expected a whole number (a string for offsets beyond 2^53)`,
  );
}

function convert(name: string, kind: Kind, v: unknown): string | boolean {
  switch (kind) {
    case 'flag':
      if (typeof v !== 'boolean') throw usage(`${name}: got ${kindOf(v)}: expected true or false`);
      return v;
    case 'text':
      return text(name, v, name === 'targetTopic' ? MAX_TOPIC : MAX_TEXT);
    case 'number':
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return String(v);
      if (typeof v === 'string' && v !== '') return text(name, v);
      throw usage(`${name}: got ${kindOf(v)}: expected a number or a string`);
    case 'partitions':
      if (Array.isArray(v)) {
        if (v.length === 0) throw usage(`${name}: empty; expected partition numbers`);
        return v
          .map((p: unknown, i) => {
            if (typeof p === 'number' && Number.isSafeInteger(p) && p >= 0) return String(p);
            throw usage(
              `${name}[${i}]: got ${typeof p === 'number' ? String(p) : kindOf(p)}: expected a partition number`,
            );
          })
          .join(',');
      }
      return whole(name, v);
    case 'bound':
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const pairs = Object.entries(v as Record<string, unknown>);
        if (pairs.length === 0) throw usage(`${name}: empty; expected {"partition": offset, ...}`);
        return pairs.map(([p, o]) => `${p}:${whole(`${name}.${p}`, o)}`).join(',');
      }
      return whole(name, v);
    case 'map':
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const pairs = Object.entries(v as Record<string, unknown>);
        if (pairs.length === 0) throw usage(`${name}: empty; expected {"source": "target", ...}`);
        return pairs
          .map(([a, b]) => {
            if (a.includes('=') || a.includes(','))
              throw usage(`${name}: ${JSON.stringify(a)} is not a topic name`);
            return `${a}=${text(`${name}.${a}`, b, MAX_TOPIC)}`;
          })
          .join(',');
      }
      return text(name, v);
  }
}

/** The body as RestoreInput: unknown fields, wrong types and an over-long value are USAGE errors. */
export function parseRestoreBody(body: unknown): RestoreInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw usage(`request body: got ${kindOf(body)}: expected a JSON object with at least "topic"`);
  const out: Record<string, string | boolean> = {};
  for (const [name, v] of Object.entries(body as Record<string, unknown>)) {
    if (name === 'topic') continue;
    const kind =
      Object.hasOwn(FIELDS, name) && !NOT_HERE.has(name) ? FIELDS[name as OptionName] : undefined;
    if (kind === undefined)
      throw usage(
        `unknown field ${JSON.stringify(name.slice(0, 80))}${NOT_HERE.has(name) ? ' (the service restores into restore.target)' : ''}; fields: ${RESTORE_FIELDS.join(', ')}`,
      );
    out[name] = convert(name, kind, v);
  }
  const topic = (body as { topic?: unknown }).topic;
  if (topic === undefined)
    throw usage('topic: missing; expected an archived topic name or a regular expression');
  return { ...(out as Omit<RestoreInput, 'topic'>), topic: text('topic', topic) };
}
