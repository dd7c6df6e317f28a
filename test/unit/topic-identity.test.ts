import { describe, expect, it } from 'vitest';
import { classify, TopicIdentityWatch } from '../../src/archiver/identity.js';

describe('topic identity checks', () => {
  it('classifies what Kafka answered against the generation record', () => {
    const ids = new Map<string, string | null>([
      ['a', 'id-1'],
      ['b', null],
    ]);
    expect(classify(ids, 'a', 'id-1')).toBe('same');
    expect(classify(ids, 'a', 'id-0')).toBe('changed');
    expect(classify(ids, 'a', null)).toBe('unknown');
    expect(classify(ids, 'b', 'id-1')).toBe('unknown');
    expect(classify(ids, 'gone', 'id-1')).toBe('missing');
    expect(classify(null, 'a', 'id-1')).toBe('unknown');
  });

  it('answers every caller with a lookup that began after its call, coalescing the waiting ones', async () => {
    let id = 'id-1';
    const started: Array<() => void> = [];
    let lookups = 0;
    const watch = new TopicIdentityWatch(async (topics) => {
      lookups++;
      const answer = new Map(topics.map((t) => [t, id]));
      await new Promise<void>((resolve) => started.push(resolve));
      return answer;
    });
    const first = watch.check('t', 'id-1');
    await Promise.resolve();
    // The topic is re-created while the first lookup is in flight: later callers must not
    // share its (older) answer.
    id = 'id-2';
    const second = watch.check('t', 'id-1');
    const third = watch.check('t', 'id-1');
    started.shift()?.();
    expect(await first).toBe('same');
    await new Promise((r) => setImmediate(r));
    started.shift()?.();
    expect(await second).toBe('changed');
    expect(await third).toBe('changed');
    expect(lookups).toBe(2);
  });

  it('answers unknown when Kafka cannot be asked', async () => {
    const watch = new TopicIdentityWatch(() => Promise.reject(new Error('down')));
    expect(await watch.check('t', 'id-1')).toBe('unknown');
    expect(await watch.lookupAll(['t'])).toBeNull();
  });
});
