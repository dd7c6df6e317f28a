/**
 * Whether a topic is still the incarnation the archiver is archiving: Kafka's topic id now,
 * compared with the id its generation record holds (archive/generations.ts).
 *
 * A check's answer is about the moment its Metadata request was made, so it proves something
 * about the records fetched before that moment: `same` (or `missing`: the old incarnation was
 * already deleted) means every record fetched before the check came from the recorded
 * incarnation; `changed` means the topic was deleted and created again since the last good check.
 * Checks are coalesced per topic, and `check` always answers with one that began after the call.
 */
export type IdentityAnswer = 'same' | 'missing' | 'changed' | 'unknown';

export type TopicIdLookup = (topics: string[]) => Promise<Map<string, string | null>>;

/** What the ids Kafka gave (null: none could be read) say of one topic. */
export function classify(
  ids: Map<string, string | null> | null,
  topic: string,
  expectedId: string | null,
): IdentityAnswer {
  if (ids === null) return 'unknown';
  if (!ids.has(topic)) return 'missing';
  const id = ids.get(topic) ?? null;
  if (id === null || expectedId === null) return 'unknown';
  return id === expectedId ? 'same' : 'changed';
}

interface Slot {
  running: Promise<Map<string, string | null> | null> | null;
  queued: Promise<Map<string, string | null> | null> | null;
}

export class TopicIdentityWatch {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly lookup: TopicIdLookup) {}

  /**
   * Kafka's id of `topic` compared with `expectedId`. `unknown` when either side has no id or
   * Kafka cannot be asked (the caller then goes on as before the check).
   */
  async check(topic: string, expectedId: string | null): Promise<IdentityAnswer> {
    return classify(await this.fresh(topic), topic, expectedId);
  }

  /** One lookup for many topics (the periodic check); null when Kafka cannot be asked. */
  lookupAll(topics: string[]): Promise<Map<string, string | null> | null> {
    return this.lookup(topics).catch(() => null);
  }

  /** A lookup that began after this call: the running one is joined only by earlier callers. */
  private fresh(topic: string): Promise<Map<string, string | null> | null> {
    let slot = this.slots.get(topic);
    if (slot === undefined) {
      slot = { running: null, queued: null };
      this.slots.set(topic, slot);
    }
    const s = slot;
    if (s.queued !== null) return s.queued;
    if (s.running === null) return this.start(topic, s);
    s.queued = s.running.then(() => {
      s.queued = null;
      return this.start(topic, s);
    });
    return s.queued;
  }

  private start(topic: string, s: Slot): Promise<Map<string, string | null> | null> {
    const p = this.lookup([topic])
      .catch(() => null)
      .finally(() => {
        if (s.running === p) s.running = null;
      });
    s.running = p;
    return p;
  }
}
