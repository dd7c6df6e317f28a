import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from '../util/fs.js';

/**
 * The offset map of a job: which original offsets went to which new offsets, as runs of
 * consecutive records (original offsets consecutive, new offsets consecutive, same target
 * partition). One JSON object per line in `offset-map.jsonl` (DuckDB: `read_json('offset-map.jsonl')`):
 *
 *   {"topic":"a","partition":0,"from":100,"to":149,"targetTopic":"a.restored","targetPartition":0,
 *    "newFrom":0,"txn":3,"next":150}
 *
 * `from`..`to` are inclusive original offsets, `newFrom` the new offset of `from` (so `to` went
 * to newFrom + to - from). `txn` numbers the transaction that wrote the run (per source
 * partition) and `next` is the job's progress in that partition once it committed (the next
 * original offset to read). Lines are appended and fsync'd before their transaction commits,
 * so a committed transaction always has its lines; a resumed job drops the lines of a
 * transaction that did not commit (next > the committed progress).
 */
export interface OffsetRun {
  topic: string;
  partition: number;
  from: bigint;
  to: bigint;
  targetTopic: string;
  targetPartition: number;
  newFrom: bigint;
  txn: number;
  next: bigint;
}

/** Builds runs from records in the order they were produced and the new offset of each. */
export function buildRuns(
  items: Array<{ offset: bigint; targetPartition: number; newOffset: bigint }>,
  base: { topic: string; partition: number; targetTopic: string; txn: number; next: bigint },
): OffsetRun[] {
  const runs: OffsetRun[] = [];
  const open = new Map<number, OffsetRun>(); // the run each target partition extends
  for (const it of items) {
    const cur = open.get(it.targetPartition);
    if (
      cur !== undefined &&
      it.offset === cur.to + 1n &&
      it.newOffset === cur.newFrom + (cur.to - cur.from) + 1n
    ) {
      cur.to = it.offset;
      continue;
    }
    const run: OffsetRun = {
      ...base,
      from: it.offset,
      to: it.offset,
      targetPartition: it.targetPartition,
      newFrom: it.newOffset,
    };
    runs.push(run);
    open.set(it.targetPartition, run);
  }
  return runs;
}

const BIG_FIELDS = new Set(['from', 'to', 'newFrom', 'next']);

export function formatRun(r: OffsetRun): string {
  return `{"topic":${JSON.stringify(r.topic)},"partition":${r.partition},"from":${r.from},"to":${r.to},"targetTopic":${JSON.stringify(r.targetTopic)},"targetPartition":${r.targetPartition},"newFrom":${r.newFrom},"txn":${r.txn},"next":${r.next}}`;
}

/** Parses one line; offsets keep every digit (the JSON source text is read, not a double). */
export function parseRun(line: string): OffsetRun | null {
  try {
    const o = JSON.parse(line, (key, value: unknown, ctx?: { source?: string }) =>
      BIG_FIELDS.has(key) && typeof value === 'number' && ctx?.source !== undefined
        ? BigInt(ctx.source)
        : value,
    ) as Record<string, unknown>;
    if (
      typeof o.topic !== 'string' ||
      typeof o.partition !== 'number' ||
      typeof o.from !== 'bigint' ||
      typeof o.to !== 'bigint' ||
      typeof o.targetTopic !== 'string' ||
      typeof o.targetPartition !== 'number' ||
      typeof o.newFrom !== 'bigint' ||
      typeof o.txn !== 'number' ||
      typeof o.next !== 'bigint'
    )
      return null;
    return o as unknown as OffsetRun;
  } catch {
    return null;
  }
}

/** Every run in the file (a torn last line, from a crash mid-append, is ignored). */
export async function loadRuns(path: string): Promise<OffsetRun[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: OffsetRun[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const r = parseRun(line);
    if (r !== null) out.push(r);
  }
  return out;
}

export const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Keeps the runs of committed transactions: per source partition those whose `next` is at
 * most the committed progress. Returns the kept runs and how many were dropped.
 */
export function committedRuns(
  runs: readonly OffsetRun[],
  progress: ReadonlyMap<string, bigint>,
): { kept: OffsetRun[]; dropped: number } {
  const kept: OffsetRun[] = [];
  let dropped = 0;
  for (const r of runs) {
    const p = progress.get(partitionKey(r.topic, r.partition));
    if (p !== undefined && r.next <= p) kept.push(r);
    else dropped++;
  }
  return { kept, dropped };
}

/** Rewrites the file with exactly these runs (temporary file, fsync, rename, fsync dir). */
export async function writeRuns(path: string, runs: readonly OffsetRun[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(runs.map((r) => `${formatRun(r)}\n`).join(''));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/** Appends runs durably (one write, then fsync) to the open map file. */
export class OffsetMapWriter {
  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<OffsetMapWriter> {
    return new OffsetMapWriter(await open(path, 'a'));
  }

  private chain: Promise<void> = Promise.resolve();

  /** Appends and fsyncs; calls from concurrent partitions are serialized. */
  append(runs: readonly OffsetRun[]): Promise<void> {
    if (runs.length === 0) return Promise.resolve();
    const text = runs.map((r) => `${formatRun(r)}\n`).join('');
    const next = this.chain.then(async () => {
      await this.fh.appendFile(text);
      await this.fh.datasync();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): Promise<void> {
    return this.chain.then(() => this.fh.close());
  }
}

/** Runs sorted for lookups: by original offset per source partition, by new offset per target partition. */
export class RunIndex {
  private readonly bySource = new Map<string, OffsetRun[]>();
  private readonly byTarget = new Map<string, OffsetRun[]>();

  constructor(runs: readonly OffsetRun[]) {
    for (const r of runs) {
      const s = partitionKey(r.topic, r.partition);
      const t = partitionKey(r.targetTopic, r.targetPartition);
      (this.bySource.get(s) ?? this.bySource.set(s, []).get(s)!).push(r);
      (this.byTarget.get(t) ?? this.byTarget.set(t, []).get(t)!).push(r);
    }
    const cmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
    for (const l of this.bySource.values()) l.sort((a, b) => cmp(a.from, b.from));
    for (const l of this.byTarget.values()) l.sort((a, b) => cmp(a.newFrom, b.newFrom));
  }

  source(topic: string, partition: number): readonly OffsetRun[] {
    return this.bySource.get(partitionKey(topic, partition)) ?? [];
  }

  target(topic: string, partition: number): readonly OffsetRun[] {
    return this.byTarget.get(partitionKey(topic, partition)) ?? [];
  }

  /** Target partitions the job wrote to. */
  targets(): Array<{ topic: string; partition: number }> {
    return [...this.byTarget.values()].map((l) => ({
      topic: l[0]!.targetTopic,
      partition: l[0]!.targetPartition,
    }));
  }
}

/**
 * Walks sorted runs with increasing keys (records arrive in offset order): finds the run
 * holding each key in amortized constant time.
 */
export class RunCursor {
  private i = 0;
  constructor(
    private readonly runs: readonly OffsetRun[],
    private readonly by: 'source' | 'target',
  ) {}

  find(key: bigint): OffsetRun | null {
    while (this.i < this.runs.length) {
      const r = this.runs[this.i]!;
      const start = this.by === 'source' ? r.from : r.newFrom;
      const end = start + (r.to - r.from);
      if (key > end) {
        this.i++;
        continue;
      }
      return key >= start ? r : null;
    }
    return null;
  }
}
