import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/index.js';
import {
  detectSparseSupport,
  rearmReserves,
  releaseReserve,
  reserveStatus,
  resolveVolumes,
  sampleVolume,
  type VolumeSpec,
  type WatermarkState,
} from '../../src/disk/index.js';
import { cliFromSource } from '../helpers/cli.js';
import { mountTmpfs, unmountTmpfs } from '../helpers/tmpfs.js';

// Reserve blocks on a real, small filesystem: a 64 MiB tmpfs filled to the brim.
const MiB = 2 ** 20;

const mountDir = mkdtempSync(join(tmpdir(), 'ka-reserve-tmpfs-'));
const refused = mountTmpfs(mountDir, '64m');
if (refused !== null) console.log(`[disk test] skipped: cannot mount a tmpfs here (${refused})`);

afterAll(() => {
  if (refused === null) unmountTmpfs(mountDir);
  rmSync(mountDir, { recursive: true, force: true });
});

// The hot tier is the volume: reserves live at its root.
const env = {
  KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: mountDir,
  KAFKA_ARCHIVE_DISK__RESERVE__COUNT: '3',
  KAFKA_ARCHIVE_DISK__RESERVE__SIZE: '8MiB',
  KAFKA_ARCHIVE_LOG__LEVEL: 'info',
};

const cli = (args: string[]) => cliFromSource(args, env);

const available = () => {
  const s = statfsSync(mountDir);
  return s.bavail * s.bsize;
};
const allocated = (path: string) => statSync(path).blocks * 512;

describe.skipIf(refused !== null)('reserve blocks on a 64 MiB tmpfs', () => {
  let volume: VolumeSpec;

  it('resolves the hot volume from the configuration', async () => {
    const specs = await resolveVolumes(loadConfig({ env }));
    volume = specs[0] as VolumeSpec;
    expect(volume).toMatchObject({
      name: 'hot',
      path: mountDir,
      reserve: { dir: mountDir, count: 3, sizeBytes: 8 * MiB },
    });
  });

  it('does not count a sparse file as an armed reserve (tmpfs keeps sparse files)', async () => {
    const probe = await detectSparseSupport(mountDir);
    expect(probe).toMatchObject({ filesystemType: 'tmpfs', sparse: true, allocatedBytes: 0 });
    const path = join(mountDir, '.kafka-archive-reserve-1');
    const before = available();
    execFileSync('truncate', ['-s', '8M', path]);
    expect(statSync(path).size).toBe(8 * MiB);
    expect(allocated(path)).toBe(0);
    expect(available()).toBe(before); // it holds no space...
    const status = await reserveStatus(volume.reserve);
    expect(status.files[0]).toMatchObject({ present: true, armed: false, allocatedBytes: 0 });
    expect(status.armed).toBe(0); // ...so it is not a reserve
    const release = cli(['reserve', 'release']);
    expect(release.code).toBe(1);
    expect(release.stderr).toMatch(
      /no armed reserve block in .* \(0 of 3 armed\): nothing to release/,
    );
    const st = cli(['reserve', 'status']);
    expect(st.stdout).toMatch(/hot .* 0\/3 .* 1:sparse 2:missing 3:missing/);
  });

  it('arms 3 × 8 MiB for real, verified by st_blocks', () => {
    const before = available();
    const r = cli(['reserve', 'rearm']);
    expect(r.code, r.stderr).toBe(0);
    // fallocate(1) is in util-linux; without it zeros are written.
    expect(r.stdout).toMatch(/hot .* 3\/3 +1 \((fallocate|write)\) 2 \(\1\) 3 \(\1\) +-/);
    for (let n = 1; n <= 3; n++) {
      const path = join(mountDir, `.kafka-archive-reserve-${n}`);
      expect(statSync(path).size).toBe(8 * MiB);
      expect(allocated(path)).toBeGreaterThanOrEqual(8 * MiB);
    }
    expect(before - available()).toBe(24 * MiB);
    // Every arming is logged.
    const logs = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event?: string; n?: number });
    expect(logs.filter((l) => l.event === 'reserve_armed').map((l) => l.n)).toEqual([1, 2, 3]);
  });

  it('releases one at a time on a full disk; rearm refuses until space returns', async () => {
    const filler = join(mountDir, 'filler');
    writeFileSync(filler, Buffer.alloc(available() - MiB, 1));
    expect(available()).toBeLessThanOrEqual(MiB);

    const states: WatermarkState[] = [];
    let sample = await sampleVolume(volume);
    states.push(sample.state);
    expect(sample.state).toBe('flood');
    expect(sample.reserve.armed).toBe(3);
    // Re-arming must leave the flood watermark's free space: 5% of 64 MiB.
    expect(sample.floodAvailableBytes).toBe(Math.ceil((64 * MiB * 5) / 100));

    const json = JSON.parse(cli(['--json', 'reserve', 'release']).stdout) as {
      n: number;
      freedBytes: number;
      availableBeforeBytes: number;
      availableAfterBytes: number;
      remainingArmed: number;
    };
    expect(json).toMatchObject({ n: 3, freedBytes: 8 * MiB, remainingArmed: 2 });
    expect(json.availableAfterBytes - json.availableBeforeBytes).toBe(8 * MiB);
    sample = await sampleVolume(volume, states[states.length - 1]);
    states.push(sample.state);

    // 9 MiB available: arming 8 MiB would leave 1 MiB, below the 3.2 MiB flood margin.
    const refusedRearm = cli(['reserve', 'rearm']);
    expect(refusedRearm.code).toBe(1);
    expect(refusedRearm.stderr).toMatch(
      /not every reserve could be re-armed:\nhot: reserve 3: arming 8\.0 MiB would leave 1\.0 MiB available, below 3\.2 MiB \(the flood watermark\)/,
    );
    expect((await reserveStatus(volume.reserve)).armed).toBe(2);

    for (const n of [2, 1]) {
      const before = available();
      const text = cli(['reserve', 'release', '--volume', 'hot']);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(
        `released ${join(mountDir, `.kafka-archive-reserve-${n}`)} (8.0 MiB)`,
      );
      expect(available() - before).toBe(8 * MiB);
      sample = await sampleVolume(volume, states[states.length - 1]);
      states.push(sample.state);
    }
    console.log(`[disk test] watermark states while releasing: ${states.join(' -> ')}`);
    expect(states[states.length - 1]).toBe('ok');

    // The escape hatch worked three times; a fourth release says so and fails.
    const none = cli(['reserve', 'release']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/0 of 3 armed\): nothing to release/);
    await expect(releaseReserve(volume.reserve)).rejects.toMatchObject({
      code: 'RESERVE_NONE_ARMED',
    });

    // 25 MiB available: two fit above the flood margin, the third does not.
    const partial = cli(['reserve', 'rearm']);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/hot .* 2\/3 +1 \((fallocate|write)\) 2 \(\1\) +3/);
    expect(available()).toBeLessThan(10 * MiB);

    // Space returns: everything re-arms (this time by writing zeros, the fallback path).
    rmSync(filler);
    const r = await rearmReserves(volume.reserve, {
      minAvailableBytes: sample.floodAvailableBytes,
      method: 'write',
    });
    expect(r.refused).toEqual([]);
    expect(r.armed).toEqual([
      { n: 3, path: join(mountDir, '.kafka-archive-reserve-3'), method: 'write' },
    ]);
    expect(r.status.armed).toBe(3);
    expect(allocated(join(mountDir, '.kafka-archive-reserve-3'))).toBeGreaterThanOrEqual(8 * MiB);
    const ok = cli(['reserve', 'rearm']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/hot .* 3\/3 +- +-/);
  });

  it('shows the volume in "disk volumes"', () => {
    const r = cli(['disk', 'volumes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hot +hot .* tmpfs +64\.0 MiB .* ok +3\/3 × 8\.0 MiB$/m);
    const [v] = JSON.parse(cli(['--json', 'disk', 'volumes']).stdout) as Array<{
      filesystem: { sizeBytes: number };
      reserve: { armedBytes: number };
      usage: { allocatedBytes: number };
    }>;
    expect(v?.filesystem.sizeBytes).toBe(64 * MiB);
    expect(v?.reserve.armedBytes).toBe(24 * MiB);
    expect(v?.usage.allocatedBytes).toBeLessThan(MiB); // reserves are not usage
  });
});
