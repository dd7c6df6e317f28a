import { ArchiveError, ErrorCodes } from '../errors.js';

/**
 * The archive's key layout, owned here and nowhere else (hot directory and object store alike):
 *
 *   topic=<topic>/_topic.json                                         topic metadata snapshot
 *   topic=<topic>/partition=<p>/<first, 20 digits>-<last, 20 digits>.parquet   one segment
 *   topic=<topic>/generation=<n>/partition=<p>/<first>-<last>.parquet  generation n >= 2
 *   topic=<topic>/generation=<n>/_topic.json
 *   <partition directory>/_segments.jsonl                              the partition's segment index
 *   topic=<topic>/_generations/<n, 10 digits>.json                    a generation's record
 *   _groups/group=<group>/date=<YYYY-MM-DD>/<capture ms, 20 digits>.jsonl        consumer-group positions
 *   _doctor/probe-<id>                                                `doctor`'s probe object
 *
 * Hive-style so query engines see topic and partition as columns; zero-padded so names sort by
 * offset.
 */
const TOPIC_RE = /^[a-zA-Z0-9._-]{1,249}$/;
const NAME_RE = /^(\d{20})-(\d{20})\.parquet$/;
const TOPIC_DIR = 'topic=';
const PARTITION_DIR = 'partition=';
const PARTITION_DIR_RE = /^partition=(\d+)$/;

/**
 * A topic deleted and re-created under the same name is a new incarnation with its own offsets:
 * each incarnation is archived as a *generation* of the topic, never mixed with another.
 * Generation 1 keeps the plain layout (`topic=<t>/partition=<p>/`), so an archive written
 * before generations existed is generation 1 as it is; generation n >= 2 lives under
 * `topic=<t>/generation=<n>/`. Inside the archive (catalog, hot index, segment keys) a
 * generation is addressed by its *stream* name: the topic name for generation 1, else
 * `<topic>~<n>` (`~` cannot occur in a Kafka topic name, so the two never collide).
 */
export const GENERATION_SEP = '~';
const STREAM_RE = /^([a-zA-Z0-9._-]{1,249})(?:~([1-9]\d{0,8}))?$/;
const GENERATION_DIR = 'generation=';
const GENERATION_DIR_RE = /^generation=([1-9]\d{0,8})$/;

export interface TopicGeneration {
  topic: string;
  generation: number;
}

/** The stream name of a topic's generation (the topic itself for generation 1). */
export function streamName(topic: string, generation: number): string {
  if (!Number.isSafeInteger(generation) || generation < 1) {
    throw new ArchiveError(ErrorCodes.USAGE, `invalid topic generation ${generation}`);
  }
  return generation === 1 ? topic : `${topic}${GENERATION_SEP}${generation}`;
}

/** The topic and generation a stream name stands for, or null for a malformed name. */
export function parseStream(stream: string): TopicGeneration | null {
  const m = STREAM_RE.exec(stream);
  if (m === null) return null;
  const generation = m[2] === undefined ? 1 : Number(m[2]);
  if (generation === 1 && m[2] !== undefined) return null; // `t~1` is spelled `t`
  return { topic: m[1] as string, generation };
}

/** Like parseStream, for names known to be streams (the catalog's, the hot index's). */
export function topicOfStream(stream: string): TopicGeneration {
  const parsed = parseStream(stream);
  if (parsed === null) {
    throw new ArchiveError(ErrorCodes.USAGE, `invalid archive stream ${JSON.stringify(stream)}`);
  }
  return parsed;
}

/** The stream a segment footer names (its topic and generation). */
export function streamOfMeta(meta: { topic: string; generation?: number }): string {
  return streamName(meta.topic, meta.generation ?? 1);
}

/** The generation of a `generation=<n>` directory name, or null for any other name. */
export function parseGenerationDir(name: string): number | null {
  const m = GENERATION_DIR_RE.exec(name);
  return m === null ? null : Number(m[1]);
}

/** `topic=<t>/_generations/`: the records of a topic's generations (generations.ts). */
export function generationsPrefix(topic: string): string {
  assertTopicName(topic);
  return `${TOPIC_DIR}${topic}/_generations/`;
}

export function generationRecordKey(topic: string, generation: number): string {
  return `${generationsPrefix(topic)}${String(generation).padStart(10, '0')}.json`;
}

export function parseGenerationRecordKey(key: string): number | null {
  const m = /\/_generations\/(\d{10})\.json$/.exec(key);
  return m === null ? null : Number(m[1]);
}

/** Where a segment sits in the archive: its partition and offset span. */
export interface SegmentLocation {
  /** The stream: the topic for generation 1, `<topic>~<n>` for generation n (see streamName). */
  topic: string;
  partition: number;
  firstOffset: bigint;
  lastOffset: bigint;
}

export function assertTopicName(topic: string): void {
  if (!TOPIC_RE.test(topic)) {
    throw new ArchiveError(ErrorCodes.USAGE, `invalid Kafka topic name: ${JSON.stringify(topic)}`);
  }
}

/** The prefix under which every topic lives (for listing a bucket). */
export const TOPICS_PREFIX = TOPIC_DIR;

/** The directory of a stream (a topic's generation): `topic=<t>` or `topic=<t>/generation=<n>`. */
export function topicRelDir(stream: string): string {
  const parsed = parseStream(stream);
  if (parsed === null) assertTopicName(stream); // throws, naming the bad topic
  const { topic, generation } = parsed as TopicGeneration;
  return generation === 1
    ? `${TOPIC_DIR}${topic}`
    : `${TOPIC_DIR}${topic}/${GENERATION_DIR}${generation}`;
}

/** The topic of a `topic=<t>` directory name, or null for any other name. */
export function parseTopicDir(name: string): string | null {
  return name.startsWith(TOPIC_DIR) ? name.slice(TOPIC_DIR.length) : null;
}

/** The partition of a `partition=<p>` directory name, or null for any other name. */
export function parsePartitionDir(name: string): number | null {
  const m = PARTITION_DIR_RE.exec(name);
  return m === null ? null : Number(m[1]);
}

export function segmentFileName(first: bigint, last: bigint): string {
  return `${first.toString().padStart(20, '0')}-${last.toString().padStart(20, '0')}.parquet`;
}

export function partitionRelDir(topic: string, partition: number): string {
  return `${topicRelDir(topic)}/${PARTITION_DIR}${partition}`;
}

export function segmentRelPath(
  topic: string,
  partition: number,
  first: bigint,
  last: bigint,
): string {
  return `${partitionRelDir(topic, partition)}/${segmentFileName(first, last)}`;
}

/** The key of a segment, relative to the hot directory or the object store's prefix. */
export function segmentKey(s: SegmentLocation): string {
  return segmentRelPath(s.topic, s.partition, s.firstOffset, s.lastOffset);
}

/**
 * The key of a partition's segment index (catalog/segment-index.ts): the catalog entries of the
 * partition's segment objects, so a rebuild from the bucket reads one object instead of one
 * footer per segment. A hint checked against the listing, never the only record of anything;
 * its name does not end in `.parquet`, so globs over the segments skip it.
 */
export function segmentIndexKey(topic: string, partition: number): string {
  return `${partitionRelDir(topic, partition)}/${SEGMENT_INDEX_NAME}`;
}

const SEGMENT_INDEX_NAME = '_segments.jsonl';

/** The key of a topic's metadata snapshot (partitions, configs, topic id). */
export function topicMetaKey(topic: string): string {
  return `${topicRelDir(topic)}/_topic.json`;
}

/**
 * The reserved key of a `doctor` probe object (written, read back and deleted at once). It lies
 * outside every `topic=` prefix, so listings of the archive never see it.
 */
export function doctorProbeKey(id: string): string {
  if (!/^[a-zA-Z0-9_-]{1,100}$/.test(id)) {
    throw new ArchiveError(
      ErrorCodes.STORAGE_KEY_INVALID,
      `invalid probe id ${JSON.stringify(id)}`,
    );
  }
  return `_doctor/probe-${id}`;
}

export function parseSegmentFileName(
  name: string,
): { firstOffset: bigint; lastOffset: bigint } | null {
  const m = NAME_RE.exec(name);
  if (m === null) return null;
  return { firstOffset: BigInt(m[1] as string), lastOffset: BigInt(m[2] as string) };
}

/** The location a segment key names, or null when the key is not a segment's. */
export function parseSegmentKey(key: string): SegmentLocation | null {
  const parts = key.split('/');
  if (parts.length !== 3 && parts.length !== 4) return null;
  const topic = parseTopicDir(parts[0] as string);
  const generation = parts.length === 4 ? parseGenerationDir(parts[1] as string) : 1;
  const partition = parsePartitionDir(parts[parts.length - 2] as string);
  const span = parseSegmentFileName(parts[parts.length - 1] as string);
  if (topic === null || partition === null || span === null || !TOPIC_RE.test(topic)) return null;
  if (generation === null || generation === 1) {
    if (parts.length === 4) return null; // generation 1 has no generation= directory
  }
  return { topic: streamName(topic, generation as number), partition, ...span };
}

/**
 * Consumer-group positions (see groups.ts): one JSON-lines object per snapshot of a group,
 * `_groups/group=<group>/date=<UTC day>/<capture time in ms, 20 digits>.jsonl`. The group name
 * is percent-encoded (every byte outside [A-Za-z0-9._-], as Hive does), so any Kafka group id
 * makes a valid key; DuckDB decodes it back in the `group` partition column.
 */
export const GROUPS_PREFIX = '_groups/';
const GROUP_DIR = 'group=';
const GROUP_FILE_RE = /^(\d{20})\.jsonl$/;
/** A key path segment holds at most 255 bytes (storage key rules). */
const MAX_GROUP_SEGMENT = 255;

export function encodeGroupName(group: string): string {
  let out = '';
  for (const byte of Buffer.from(group, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9._-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeGroupName(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}

/** Whether a group's snapshots can be stored (its encoded name fits a key segment). */
export function groupNameStorable(group: string): boolean {
  return group.length > 0 && GROUP_DIR.length + encodeGroupName(group).length <= MAX_GROUP_SEGMENT;
}

/** `_groups/group=<g>/`: every snapshot of a group. */
export function groupPrefix(group: string): string {
  return `${GROUPS_PREFIX}${GROUP_DIR}${encodeGroupName(group)}/`;
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `_groups/group=<g>/date=<YYYY-MM-DD>/`: a group's snapshots of one UTC day. */
export function groupDayPrefix(group: string, ms: number): string {
  return `${groupPrefix(group)}date=${utcDay(ms)}/`;
}

export function groupSnapshotKey(group: string, capturedAtMs: number): string {
  return `${groupDayPrefix(group, capturedAtMs)}${String(capturedAtMs).padStart(20, '0')}.jsonl`;
}

/** The group and capture time a snapshot key names, or null for any other key. */
export function parseGroupSnapshotKey(key: string): { group: string; capturedAtMs: number } | null {
  if (!key.startsWith(GROUPS_PREFIX)) return null;
  const parts = key.slice(GROUPS_PREFIX.length).split('/');
  if (parts.length !== 3) return null;
  const [g, d, f] = parts as [string, string, string];
  const m = GROUP_FILE_RE.exec(f);
  if (!g.startsWith(GROUP_DIR) || !/^date=\d{4}-\d{2}-\d{2}$/.test(d) || m === null) return null;
  const group = decodeGroupName(g.slice(GROUP_DIR.length));
  const capturedAtMs = Number(m[1]);
  if (group === null || !Number.isSafeInteger(capturedAtMs)) return null;
  return { group, capturedAtMs };
}
