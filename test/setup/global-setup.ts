// Starts the real services for one integration run: one Kafka broker (KAFKA_VERSION, default
// 4.1.1, via scripts/kafka.sh) and one S3 server (versitygw, via scripts/s3.sh), unless
// KAFKA_BROKERS / S3_ENDPOINT point at running ones.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import './context.js';

const ROOT = join(import.meta.dirname, '../..');

function script(name: string, args: string[]): string {
  return execFileSync('bash', [join(ROOT, 'scripts', name), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  }).trim();
}

export default function setup(project: TestProject): () => void {
  const version = process.env.KAFKA_VERSION ?? '4.1.1';
  let kafkaDir: string | null = null;
  let brokers: string[];
  if (process.env.KAFKA_BROKERS) {
    brokers = process.env.KAFKA_BROKERS.split(',');
  } else {
    kafkaDir = mkdtempSync(join(tmpdir(), `ka-kafka-${version}-`));
    const t0 = Date.now();
    try {
      brokers = [script('kafka.sh', ['start', version, kafkaDir]).split('\n').pop() as string];
    } catch (err) {
      const log = join(kafkaDir, 'server.log');
      if (existsSync(log))
        console.error(readFileSync(log, 'utf8').split('\n').slice(-40).join('\n'));
      throw err;
    }
    console.log(
      `[test bed] Kafka ${version} (KRaft) started at ${brokers[0]} in ${Date.now() - t0} ms; logs: ${kafkaDir}/server.log`,
    );
  }
  // KAFKA_DIR: the running broker's directory (server.properties, data/), for log.dir tests;
  // never stopped here.
  project.provide('kafka', { brokers, version, dir: kafkaDir ?? process.env.KAFKA_DIR ?? null });

  let s3Dir: string | null = null;
  if (process.env.S3_ENDPOINT) {
    project.provide('s3', {
      endpoint: process.env.S3_ENDPOINT,
      region: process.env.S3_REGION ?? 'us-east-1',
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? 'test-access-key',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? 'test-secret-key',
      bucket: process.env.S3_BUCKET ?? 'kafka-archive-test',
      dir: null,
    });
  } else {
    s3Dir = mkdtempSync(join(tmpdir(), 'ka-s3-'));
    const endpoint = script('s3.sh', ['start', s3Dir]).split('\n').pop() as string;
    console.log(`[test bed] S3 server (versitygw) started at ${endpoint}`);
    project.provide('s3', {
      endpoint,
      region: 'us-east-1',
      accessKeyId: 'test-access-key',
      secretAccessKey: 'test-secret-key',
      bucket: 'kafka-archive-test',
      dir: s3Dir,
    });
  }

  return () => {
    if (kafkaDir !== null) script('kafka.sh', ['stop', kafkaDir]);
    if (s3Dir !== null) script('s3.sh', ['stop', s3Dir]);
  };
}
