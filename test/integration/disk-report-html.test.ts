import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createKafkajsClient, createLogger, loadConfig } from '../../src/index.js';
import { collectDiskReport, REPORT_COLORS } from '../../src/disk/index.js';
import { cliFromSource as cli } from '../helpers/cli.js';

// The HTML disk report for real data — a temporary hot volume that grows between samples and,
// when the run's broker directory is known, the broker's log.dir with a topic that grows — opened
// in headless Chromium: the screenshot must show the charts (their colours), not a blank page.

const kafkaInfo = inject('kafka');
const DAY = 86_400_000;

function findChromium(): string | null {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return null;
}

const chromium = findChromium();
if (chromium === null)
  console.log(
    '[disk-report-html test] skipped: no chromium on PATH (scripts/ensure-chromium.sh installs it as root with apt-get)',
  );

// ---------------------------------------------------------------------------------------------
// A tiny PNG reader: 8-bit greyscale / RGB / RGBA, not interlaced (what Chromium writes).

interface Image {
  width: number;
  height: number;
  /** RGB per pixel. */
  rgb: Uint8Array;
}

function readPng(buf: Buffer): Image {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const bitDepth = data[8];
      colorType = data[9] as number;
      if (bitDepth !== 8 || data[12] !== 0 || ![0, 2, 6].includes(colorType))
        throw new Error(`unsupported PNG: bit depth ${bitDepth}, colour type ${colorType}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = colorType === 6 ? 4 : colorType === 2 ? 3 : 1;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (out[y * stride + x - channels] as number) : 0;
      const b = y > 0 ? (out[(y - 1) * stride + x] as number) : 0;
      const c = x >= channels && y > 0 ? (out[(y - 1) * stride + x - channels] as number) : 0;
      let v = line[x] as number;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new Error(`bad PNG filter ${filter}`);
      out[y * stride + x] = v & 0xff;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 3; k++)
      rgb[i * 3 + k] = out[i * channels + (channels === 1 ? 0 : k)] as number;
  }
  return { width, height, rgb };
}

/** Pixels per colour, as "#rrggbb". */
function colourCounts(img: Image): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < img.width * img.height; i++) {
    const hex =
      '#' +
      [0, 1, 2].map((k) => (img.rgb[i * 3 + k] as number).toString(16).padStart(2, '0')).join('');
    counts.set(hex, (counts.get(hex) ?? 0) + 1);
  }
  return counts;
}

describe.skipIf(chromium === null)('HTML disk report in headless Chromium', () => {
  const root = mkdtempSync(join(tmpdir(), 'ka-report-html-'));
  const hot = join(root, 'hot');
  const topic = `reporthtml-${Math.random().toString(36).slice(2, 8)}`;
  const brokerDir = kafkaInfo.dir;
  const log = createLogger({ level: 'silent' });
  const client = createKafkajsClient(
    { ...loadConfig({ env: {} }).kafka, brokers: kafkaInfo.brokers },
    log,
  );

  afterAll(async () => {
    if (brokerDir !== null) {
      const admin = await client.admin();
      await admin.deleteTopics([topic]).catch(() => undefined);
      await admin.disconnect();
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('renders the charts: usage and forecast, growth, index vs log', async () => {
    mkdirSync(hot, { recursive: true });
    const yaml = [
      'archiver:',
      `  hotDir: ${hot}`,
      'disk:',
      `  historyDir: ${join(root, 'history')}`,
      '  reserve:',
      '    count: 1',
      '    size: 4MiB',
      ...(brokerDir !== null
        ? ['  kafka:', `    serverProperties: ${join(brokerDir, 'server.properties')}`]
        : []),
    ].join('\n');
    const configFile = join(root, 'kafka-archive.yaml');
    writeFileSync(configFile, `${yaml}\n`);
    const config = loadConfig({ file: configFile, env: {} });

    let producer: Awaited<ReturnType<typeof client.producer>> | null = null;
    if (brokerDir !== null) {
      const admin = await client.admin();
      await admin.createTopics([{ name: topic, partitions: 3 }]);
      await admin.disconnect();
      producer = await client.producer();
    }
    // Three earlier samples (a day apart) with real measurements; the volume and the topic grow.
    const now = Date.now();
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(hot, `data-${i}.bin`), randomBytes((i + 1) * 3 * 2 ** 20));
      for (let p = 0; p < 3 && producer !== null; p++) {
        await producer.send(
          topic,
          Array.from({ length: (p + 1) * (i + 1) * 40 }, () => ({
            partition: p,
            key: null,
            value: randomBytes(1024),
          })),
        );
      }
      await collectDiskReport(config, {
        now: new Date(now - (3 - i) * DAY),
        kafkaVersion: kafkaInfo.version,
      });
    }
    await producer?.disconnect();

    const htmlFile = join(root, 'report.html');
    const r = cli(['--config', configFile, 'disk', 'report', '--html', htmlFile, '--top', '8']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`HTML report written to ${htmlFile}`);
    expect(r.stdout).toMatch(/history of 4 samples in the last 7\.0 d/);
    if (brokerDir !== null) {
      expect(r.stdout).toMatch(
        /survives an unclean restart today: (yes|only by releasing reserves|NO)/,
      );
      expect(r.stdout).toMatch(new RegExp(`^${topic}-2 `, 'm'));
    }
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).not.toMatch(/<script|src=|<link/i);

    const png = join(root, 'report.png');
    const shot = spawnSync(
      chromium as string,
      [
        '--headless',
        '--disable-gpu',
        '--no-sandbox',
        '--hide-scrollbars',
        '--force-device-scale-factor=1',
        `--screenshot=${png}`,
        '--window-size=1200,1600',
        `file://${htmlFile}`,
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(shot.status, shot.stderr).toBe(0);
    expect(statSync(png).size).toBeGreaterThan(10_000);
    const img = readPng(readFileSync(png));
    expect([img.width, img.height]).toEqual([1200, 1600]);
    const counts = colourCounts(img);
    const white = counts.get('#ffffff') ?? 0;
    const required: Array<keyof typeof REPORT_COLORS> = ['usage', 'forecast', 'high', 'flood'];
    if (brokerDir !== null) required.push('growth', 'log', 'indexes', 'needUnclean', 'available');
    const found = Object.fromEntries(required.map((k) => [k, counts.get(REPORT_COLORS[k]) ?? 0]));
    console.log(
      `[disk-report-html test] ${img.width}x${img.height} screenshot: ${counts.size} distinct colours, ` +
        `${((1 - white / (img.width * img.height)) * 100).toFixed(1)}% non-white; chart colour pixels: ${JSON.stringify(found)}`,
    );
    expect(counts.size).toBeGreaterThan(50);
    expect(white / (img.width * img.height)).toBeLessThan(brokerDir !== null ? 0.95 : 0.99);
    for (const k of required)
      expect(found[k], `pixels of ${k} ${REPORT_COLORS[k]}`).toBeGreaterThan(150);
  }, 180_000);
});
