import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  detectSparseSupport,
  measureUsage,
  rearmReserves,
  releaseReserve,
  reserveStatus,
} from '../../src/disk/index.js';

// Small reserves on the machine's temporary directory; the full scenario (a real small
// filesystem filled up) is test/integration/disk-reserve.test.ts.
const MiB = 2 ** 20;

describe('reserve blocks on the local filesystem', () => {
  it('arms with both allocation methods and verifies allocated blocks', async () => {
    for (const method of ['fallocate', 'write'] as const) {
      const dir = mkdtempSync(join(tmpdir(), `ka-reserve-${method}-`));
      const spec = { dir, count: 2, sizeBytes: MiB + 4096 };
      const r = await rearmReserves(spec, { minAvailableBytes: 0, method });
      expect(r.armed.map((a) => [a.n, a.method])).toEqual([
        [1, method],
        [2, method],
      ]);
      for (const f of r.status.files) {
        const st = statSync(f.path);
        expect(st.size).toBe(spec.sizeBytes);
        expect(st.blocks * 512).toBeGreaterThanOrEqual(spec.sizeBytes);
      }
      expect(r.status.armed).toBe(2);
      expect(readdirSync(dir).sort()).toEqual([
        '.kafka-archive-reserve-1',
        '.kafka-archive-reserve-2',
      ]);
    }
  });

  it('a sparse file of the right size is not an armed reserve, and rearm replaces it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-reserve-sparse-'));
    const spec = { dir, count: 1, sizeBytes: 4 * MiB };
    execFileSync('truncate', ['-s', String(spec.sizeBytes), join(dir, '.kafka-archive-reserve-1')]);
    const probe = await detectSparseSupport(dir);
    const status = await reserveStatus(spec);
    expect(status.files[0]).toMatchObject({ present: true, apparentBytes: 4 * MiB });
    if (probe.sparse) {
      expect(status.files[0]?.armed).toBe(false);
      expect(status.armed).toBe(0);
      await expect(releaseReserve(spec)).rejects.toThrow(/no armed reserve block/);
    }
    const r = await rearmReserves(spec, { minAvailableBytes: 0 });
    expect(r.status.armed).toBe(1);
    expect(statSync(join(dir, '.kafka-archive-reserve-1')).blocks * 512).toBeGreaterThanOrEqual(
      4 * MiB,
    );
  });

  it('releases highest first, leftovers above count before those', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-reserve-release-'));
    await rearmReserves({ dir, count: 3, sizeBytes: MiB }, { minAvailableBytes: 0 });
    const spec = { dir, count: 2, sizeBytes: MiB }; // count lowered: reserve 3 is a leftover
    expect((await reserveStatus(spec)).extra.map((f) => f.n)).toEqual([3]);
    const order: number[] = [];
    for (let i = 0; i < 3; i++) order.push((await releaseReserve(spec)).n);
    expect(order).toEqual([3, 2, 1]);
    await expect(releaseReserve(spec)).rejects.toMatchObject({ code: 'RESERVE_NONE_ARMED' });
  });

  it('refuses to re-arm when the space left would fall below the minimum', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-reserve-min-'));
    const r = await rearmReserves(
      { dir, count: 1, sizeBytes: MiB },
      { minAvailableBytes: Number.MAX_SAFE_INTEGER },
    );
    expect(r.armed).toEqual([]);
    expect(r.refused[0]?.reason).toMatch(/would leave .* available, below .*flood watermark/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('volume usage leaves reserve files out, removes stale temporaries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-reserve-usage-'));
    writeFileSync(join(dir, 'data'), Buffer.alloc(10_000, 1));
    await rearmReserves({ dir, count: 1, sizeBytes: MiB }, { minAvailableBytes: 0 });
    writeFileSync(join(dir, '.kafka-archive-reserve-2.tmp-999999999'), 'x');
    const { isReserveFileName } = await import('../../src/disk/index.js');
    const usage = await measureUsage(dir, { skip: isReserveFileName });
    expect(usage.files).toBe(1);
    expect(usage.apparentBytes).toBe(10_000);
    const status = await reserveStatus({ dir, count: 2, sizeBytes: MiB });
    expect(status.partial).toHaveLength(1);
    await rearmReserves({ dir, count: 2, sizeBytes: MiB }, { minAvailableBytes: 0 });
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
