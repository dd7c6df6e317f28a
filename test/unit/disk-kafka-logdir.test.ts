import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArchiveError } from '../../src/index.js';
import {
  devMajorMinor,
  logDirsFromProperties,
  parseCheckpoint,
  parsePartitionDirName,
  parseProcLocks,
  parseProperties,
  readServerProperties,
  scanLogDir,
  segmentsFrom,
} from '../../src/disk/index.js';

describe('checkpoint file parser', () => {
  it('reads version, count and topic partition offset lines', () => {
    const cp = parseCheckpoint('0\n3\nztf_alerts 0 1200\nztf_alerts 1 7\ncluster1.job 12 0\n');
    expect(cp.version).toBe(0);
    expect(cp.entries).toEqual([
      { topic: 'ztf_alerts', partition: 0, offset: 1200n },
      { topic: 'ztf_alerts', partition: 1, offset: 7n },
      { topic: 'cluster1.job', partition: 12, offset: 0n },
    ]);
  });

  it('reads an empty checkpoint and offsets beyond 2^53', () => {
    expect(parseCheckpoint('0\n0\n')).toEqual({ version: 0, entries: [] });
    expect(parseCheckpoint('0\n1\nt 0 9007199254740993').entries[0]?.offset).toBe(
      9007199254740993n,
    );
  });

  it('rejects torn and foreign files, naming the line', () => {
    const err = (text: string) => {
      try {
        parseCheckpoint(text, 'recovery-point-offset-checkpoint');
      } catch (e) {
        expect(e).toBeInstanceOf(ArchiveError);
        expect((e as ArchiveError).code).toBe('KAFKA_CHECKPOINT_INVALID');
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    // Empty: what a broker leaves before its first checkpoint (no entries), not an error.
    expect(parseCheckpoint('')).toEqual({ version: 0, entries: [] });
    expect(err('x\n0\n')).toMatch(/line 1: expected a version number/);
    expect(err('1\n0\n')).toMatch(/unsupported checkpoint version 1/);
    expect(err('0\n2\nt 0 5\n')).toMatch(/line 2: header says 2 entries but the file has 1/);
    expect(err('0\n1\nt 0\n')).toMatch(
      /recovery-point-offset-checkpoint: line 3: expected "topic partition offset", got "t 0"/,
    );
    expect(err('0\nmany\n')).toMatch(/line 2: expected the number of entries/);
  });
});

describe('server.properties', () => {
  it('prefers log.dirs over log.dir and splits comma lists', () => {
    const props = parseProperties(
      ['# broker 1', 'log.dir=/tmp/one', 'log.dirs = /data/a, /data/b ,,/data/c', ''].join('\n'),
    );
    expect(logDirsFromProperties(props)).toEqual({
      logDirs: ['/data/a', '/data/b', '/data/c'],
      source: 'log.dirs',
    });
  });

  it('falls back to log.dir, then to the Kafka default', () => {
    expect(logDirsFromProperties(parseProperties('log.dir=/var/kafka,/var/kafka2\n'))).toEqual({
      logDirs: ['/var/kafka', '/var/kafka2'],
      source: 'log.dir',
    });
    expect(logDirsFromProperties(parseProperties('log.dirs=\nnode.id=3\n'))).toEqual({
      logDirs: ['/tmp/kafka-logs'],
      source: 'default',
    });
  });

  it('understands the Java properties syntax: separators, comments, continuations, escapes', () => {
    const props = parseProperties(
      [
        '! a comment',
        '   # indented comment',
        'log.dirs: /data/a,\\',
        '          /data/b',
        'listeners PLAINTEXT://host\\:9092',
        'path\\ with\\ space=C\\:\\\\kafka',
        'unicode=caf\\u00e9',
        'empty=',
        'later=1',
        'later=2',
      ].join('\n'),
    );
    expect(props.get('log.dirs')).toBe('/data/a,/data/b');
    expect(props.get('listeners')).toBe('PLAINTEXT://host:9092');
    expect(props.get('path with space')).toBe('C:\\kafka');
    expect(props.get('unicode')).toBe('café');
    expect(props.get('empty')).toBe('');
    expect(props.get('later')).toBe('2');
    expect(logDirsFromProperties(props).logDirs).toEqual(['/data/a', '/data/b']);
  });

  it('reads a file and reports an unreadable one clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-props-'));
    writeFileSync(join(dir, 'server.properties'), 'log.dirs=/k1,/k2\r\nnode.id=1\r\n');
    expect((await readServerProperties(join(dir, 'server.properties'))).logDirs).toEqual([
      '/k1',
      '/k2',
    ]);
    await expect(readServerProperties(join(dir, 'missing.properties'))).rejects.toThrow(
      /cannot read Kafka server properties .*missing\.properties/,
    );
  });
});

describe('log.dir layout', () => {
  it('parses partition directory names, including ones being deleted or moved', () => {
    expect(parsePartitionDirName('ztf_alerts-15')).toEqual({
      topic: 'ztf_alerts',
      partition: 15,
      state: 'live',
    });
    expect(parsePartitionDirName('my-topic-with-dashes-3')?.topic).toBe('my-topic-with-dashes');
    expect(parsePartitionDirName('t-0.ef05543d937d4543b89f0ca172e5dff3-delete')).toEqual({
      topic: 't',
      partition: 0,
      state: 'delete',
    });
    expect(parsePartitionDirName('t.x-2.0123456789abcdef0123456789abcdef-future')?.state).toBe(
      'future',
    );
    expect(parsePartitionDirName('t-1.0123456789abcdef0123456789abcdef-stray')?.state).toBe(
      'stray',
    );
    expect(parsePartitionDirName('lost+found')).toBeNull();
    expect(parsePartitionDirName('.kafka-archive-reserve')).toBeNull();
  });

  it('counts the segments an unclean restart recovers from the recovery point', () => {
    const bases = [0n, 100n, 200n, 300n];
    expect(segmentsFrom(bases, 0n)).toBe(4);
    expect(segmentsFrom(bases, 150n)).toBe(3); // the segment holding 150, and all after it
    expect(segmentsFrom(bases, 300n)).toBe(1);
    expect(segmentsFrom(bases, 999n)).toBe(1);
    expect(segmentsFrom([], 5n)).toBe(0);
  });

  it('parses /proc/locks and Linux device numbers', () => {
    const locks = parseProcLocks(
      [
        '1: POSIX  ADVISORY  WRITE 7199 fe:00:10012212 0 EOF',
        '2: FLOCK  ADVISORY  WRITE 21016 08:11:9990295 0 EOF',
        '2: -> FLOCK  ADVISORY  WRITE 21017 08:11:9990295 0 EOF',
        '',
      ].join('\n'),
    );
    expect(locks).toEqual([
      { kind: 'POSIX', pid: 7199, major: 0xfe, minor: 0, inode: 10012212n },
      { kind: 'FLOCK', pid: 21016, major: 8, minor: 0x11, inode: 9990295n },
    ]);
    expect(devMajorMinor(0xfe00n)).toEqual({ major: 0xfe, minor: 0 });
    expect(devMajorMinor(0x811n)).toEqual({ major: 8, minor: 0x11 });
    // glibc makedev(259, 3) and makedev(259, 0x12345)
    expect(devMajorMinor(0x10303n)).toEqual({ major: 259, minor: 3 });
    expect(devMajorMinor(0x12310345n)).toEqual({ major: 259, minor: 0x12345 });
  });

  it('scans a hand-made log.dir: file kinds, checkpoints, unclean shutdown', async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'ka-logdir-'));
    const part = join(logDir, 'events-0');
    mkdirSync(part);
    const base = (n: number) => String(n).padStart(20, '0');
    for (const b of [0, 50, 120]) {
      writeFileSync(join(part, `${base(b)}.log`), Buffer.alloc(1000));
      writeFileSync(join(part, `${base(b)}.index`), Buffer.alloc(16));
      writeFileSync(join(part, `${base(b)}.timeindex`), Buffer.alloc(24));
    }
    writeFileSync(join(part, `${base(50)}.txnindex`), Buffer.alloc(40));
    writeFileSync(join(part, `${base(120)}.snapshot`), Buffer.alloc(10));
    writeFileSync(join(part, 'leader-epoch-checkpoint'), '0\n1\n0 0\n');
    mkdirSync(join(logDir, 'events-1.0123456789abcdef0123456789abcdef-delete'));
    mkdirSync(join(logDir, 'not_a_partition'));
    writeFileSync(join(logDir, 'recovery-point-offset-checkpoint'), '0\n1\nevents 0 60\n');
    writeFileSync(join(logDir, 'log-start-offset-checkpoint'), '0\n1\nevents 0 0\n');
    writeFileSync(join(logDir, 'replication-offset-checkpoint'), '0\n1\nevents 0 130\n');
    writeFileSync(join(logDir, 'cleaner-offset-checkpoint'), 'garbage');
    writeFileSync(join(logDir, '.lock'), '');

    const scan = await scanLogDir(logDir);
    expect(scan.partitions).toHaveLength(2);
    const p = scan.partitions.find((x) => x.partition === 0)!;
    expect(p.segments).toBe(3);
    expect(p.log).toMatchObject({ files: 3, apparentBytes: 3000 });
    expect(p.index).toMatchObject({ files: 3, apparentBytes: 48 });
    expect(p.timeindex).toMatchObject({ files: 3, apparentBytes: 72 });
    expect(p.txnindex).toMatchObject({ files: 1, apparentBytes: 40 });
    expect(p.other.files).toBe(2);
    expect(p.firstBaseOffset).toBe(0n);
    expect(p.activeBaseOffset).toBe(120n);
    expect(p.recoveryPoint).toBe(60n);
    expect(p.highWatermark).toBe(130n);
    expect(p.logStartOffset).toBe(0n);
    expect(p.cleanerOffset).toBeNull();
    expect(p.segmentsPastRecoveryPoint).toBe(2);
    expect(p.oldestSegmentMtime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(scan.partitions.find((x) => x.partition === 1)?.state).toBe('delete');
    expect(scan.unknownDirectories).toEqual(['not_a_partition']);
    const cleaner = scan.checkpoints.find((c) => c.name === 'cleaner-offset-checkpoint');
    expect(cleaner?.error).toMatch(/line 1: expected a version number/);
    expect(scan.cleanShutdownMarker).toBe(false);
    // Nobody holds .lock and there is no marker: the broker stopped without a clean shutdown.
    expect(scan.lastShutdown).toBe('unclean');
    writeFileSync(join(logDir, '.kafka_cleanshutdown'), '');
    expect((await scanLogDir(logDir)).lastShutdown).toBe('clean');
    await expect(scanLogDir(join(logDir, 'nope'))).rejects.toThrow(/cannot scan Kafka log\.dir/);
  });
});
