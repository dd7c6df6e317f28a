import { ArchiveError, ErrorCodes } from '../errors.js';
import type { ObjectStore } from '../storage/index.js';
import { generationRecordKey, generationsPrefix, parseGenerationRecordKey } from './layout.js';

/**
 * The generations of a topic: one immutable JSON object per incarnation of the topic, written
 * put-if-absent under `topic=<t>/_generations/<n, 10 digits>.json`, so archiver members on
 * several hosts agree on which generation a topic id belongs to (the first writer of a number
 * wins; the loser re-reads and adopts its answer).
 *
 *   {"topic":"orders","generation":2,"topicId":"p3Yr...","previousTopicId":"Qm1x...",
 *    "detectedAt":"2026-12-01T16:40:00.000Z","reason":"topic-id"}
 *
 * `topicId` is Kafka's topic id (a UUID, base64 as Kafka prints it) when the client reads it,
 * else null. `reason`: `first` (the first generation recorded), `topic-id` (Kafka reports
 * another topic id than the newest generation's), `offsets` (no topic id: the partition logs end
 * below what the newest generation archived).
 */
export type GenerationReason = 'first' | 'topic-id' | 'offsets';

export interface GenerationRecord {
  topic: string;
  generation: number;
  topicId: string | null;
  previousTopicId: string | null;
  detectedAt: string;
  reason: GenerationReason;
}

const REASONS: readonly string[] = ['first', 'topic-id', 'offsets'];

function parseRecord(topic: string, generation: number, text: string): GenerationRecord {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    o = {};
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  if (o.topic !== topic || o.generation !== generation || !REASONS.includes(String(o.reason))) {
    throw new ArchiveError(
      ErrorCodes.GENERATION_RECORD_INVALID,
      `the record of generation ${generation} of topic ${topic} (${generationRecordKey(topic, generation)}) is malformed; restore it from a copy or delete it to let the archiver record the generation again`,
    );
  }
  return {
    topic,
    generation,
    topicId: str(o.topicId),
    previousTopicId: str(o.previousTopicId),
    detectedAt: str(o.detectedAt) ?? '',
    reason: o.reason as GenerationReason,
  };
}

/** Every recorded generation of a topic, oldest first (empty for a topic without records). */
export async function listGenerations(
  store: ObjectStore,
  topic: string,
): Promise<GenerationRecord[]> {
  const out: GenerationRecord[] = [];
  for await (const o of store.list(generationsPrefix(topic))) {
    const n = parseGenerationRecordKey(o.key);
    if (n === null || n < 1) continue;
    out.push(parseRecord(topic, n, (await store.get(o.key)).toString('utf8')));
  }
  return out.sort((a, b) => a.generation - b.generation);
}

/**
 * Records a generation unless its number is taken. Answers the stored record: ours, or the one
 * another member wrote first (the caller then decides again with it).
 */
export async function recordGeneration(
  store: ObjectStore,
  record: GenerationRecord,
): Promise<{ record: GenerationRecord; written: boolean }> {
  const key = generationRecordKey(record.topic, record.generation);
  try {
    await store.put(key, Buffer.from(`${JSON.stringify(record)}\n`), { ifAbsent: true });
    return { record, written: true };
  } catch (err) {
    if (!(err instanceof ArchiveError) || err.code !== ErrorCodes.OBJECT_EXISTS) throw err;
    const text = (await store.get(key)).toString('utf8');
    return { record: parseRecord(record.topic, record.generation, text), written: false };
  }
}

/** What a topic as Kafka shows it now is, against the recorded generations. */
export interface GenerationFacts {
  /** Kafka's topic id, when the client reads it. */
  topicId: string | null;
  /**
   * True when the partition logs end below what the newest generation archived (a re-created
   * topic seen without topic ids). Only consulted when topicId is null.
   */
  logsEndBelowArchive: boolean;
  now: number;
}

export type GenerationDecision =
  { kind: 'existing'; record: GenerationRecord } | { kind: 'new'; record: GenerationRecord };

/**
 * The generation the topic's current incarnation belongs to (pure: decides from the records; the
 * caller writes a new one with recordGeneration and decides again when it lost the race).
 *
 * - no records: generation 1 (`first`), whatever the archive holds: an archive written before
 *   generations existed is generation 1, and the offset check still guards it;
 * - a record with this topic id: that generation;
 * - the newest record has another topic id: a new generation (`topic-id`);
 * - the newest record has no topic id (or Kafka gives none): the newest generation, unless the
 *   logs end below the archive, then a new one (`offsets`).
 */
export function decideGeneration(
  topic: string,
  records: readonly GenerationRecord[],
  facts: GenerationFacts,
): GenerationDecision {
  const at = new Date(facts.now).toISOString();
  const newest = records[records.length - 1];
  if (newest === undefined) {
    return {
      kind: 'new',
      record: {
        topic,
        generation: 1,
        topicId: facts.topicId,
        previousTopicId: null,
        detectedAt: at,
        reason: 'first',
      },
    };
  }
  const next = (reason: GenerationReason): GenerationDecision => ({
    kind: 'new',
    record: {
      topic,
      generation: newest.generation + 1,
      topicId: facts.topicId,
      previousTopicId: newest.topicId,
      detectedAt: at,
      reason,
    },
  });
  if (facts.topicId !== null) {
    const same = records.find((r) => r.topicId === facts.topicId);
    if (same !== undefined) return { kind: 'existing', record: same };
    if (newest.topicId !== null) return next('topic-id');
  }
  return facts.logsEndBelowArchive ? next('offsets') : { kind: 'existing', record: newest };
}
