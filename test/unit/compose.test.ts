// Static checks of docker-compose.yml, the Dockerfile and .dockerignore (no Docker engine needed).
// The same checks, against the built loader in dist/, are `node scripts/check-compose.mjs`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envOverrides, loadConfig } from '../../src/index.js';
import {
  checkCompose,
  checkDockerfile,
  dockerfileArchiveEnv,
  dockerfileInstructions,
  environmentOf,
  interpolate,
  volumesOf,
  type ComposeDoc,
  type Env,
  type Instruction,
  type Service,
} from '../../scripts/compose-checks.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (name: string) => readFileSync(join(ROOT, name), 'utf8');

/** The shared checks (also `node scripts/check-compose.mjs`), with the loader from the sources. */
const composeProblems = (d: ComposeDoc, dockerfileEnv: Env) =>
  checkCompose(d, { loadConfig, envOverrides, dockerfileEnv });

/** Instructions of the last (runtime) stage. */
const lastStage = (ins: Instruction[]) => ins.slice(ins.map((i) => i.op).lastIndexOf('FROM'));

const notes: string[] = [];
const doc = interpolate(
  parse(read('docker-compose.yml'), { uniqueKeys: true }),
  notes,
  'docker-compose.yml',
) as ComposeDoc;
const services = doc.services ?? {};
const dockerfile = dockerfileInstructions(read('Dockerfile'));
const dockerfileEnv = dockerfileArchiveEnv(dockerfile);

describe('docker-compose.yml', () => {
  it('passes every structure and config check', () => {
    expect(composeProblems(doc, dockerfileEnv)).toEqual([]);
  });

  it('the checks catch broken files', () => {
    const broken = structuredClone(doc);
    const archiver = broken.services?.archiver as Service;
    archiver.environment = {
      ...(archiver.environment as Record<string, unknown>),
      KAFKA_ARCHIVE_ARCHIVER__HOTDIR: '/x', // no such key (hotDir is HOT_DIR)
      KAFKA_ARCHIVE_KAFKA____BROKERS: 'a:1', // empty path segment: silently ignored by the loader
    };
    archiver.depends_on = { kafka: { condition: 'service_healthy' }, zookeeper: null };
    archiver.stop_grace_period = '10s';
    archiver.volumes = ['undeclared:/var/lib/kafka-archive'];
    (broken.services?.s3 as Service).ports = ['7070:7070'];
    delete broken.services?.kafka?.healthcheck;
    const problems = composeProblems(broken, dockerfileEnv).join('\n');
    expect(problems).toContain('config error: archiver.hotdir: unknown key');
    expect(problems).toContain('KAFKA_ARCHIVE_KAFKA____BROKERS: not a config key path');
    expect(problems).toContain('depends_on: unknown service zookeeper');
    expect(problems).toContain('depends_on: kafka must be healthy but has no healthcheck');
    expect(problems).toContain('depends_on: s3 with condition service_healthy');
    expect(problems).toContain('stop_grace_period: 10s; at least 60s');
    expect(problems).toContain('named volume undeclared is not declared');
    expect(problems).toContain('volumes.archive-data: declared but not used');
    expect(problems).toContain('"7070:7070" is not bound to 127.0.0.1');
    expect(problems).toContain('services.kafka: no healthcheck');
    expect(checkDockerfile('FROM node:24\nUSER root\n').join('\n')).toMatch(
      /multi-stage build[\s\S]*runtime USER is root[\s\S]*no ENTRYPOINT/,
    );
  });

  it('the checks catch a valid config that does not fit the stack', () => {
    const broken = structuredClone(doc);
    const archiver = broken.services?.archiver as Service;
    archiver.environment = {
      ...(archiver.environment as Record<string, unknown>),
      KAFKA_ARCHIVE_KAFKA__BROKERS: 'elsewhere:9092',
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: '/tmp/hot',
      KAFKA_ARCHIVE_CATALOG__DIR: '/app/catalog',
      KAFKA_ARCHIVE_STORAGE__S3__BUCKET: 'other',
      KAFKA_ARCHIVE_STORAGE__S3__ENDPOINT: 'http://minio:9000',
    };
    expect(composeProblems(broken, dockerfileEnv)).toEqual([
      "kafka.brokers: elsewhere:9092 is not one of kafka's advertised listeners",
      'archiver.hotDir /tmp/hot: not on a volume of the archiver',
      'catalog.dir /app/catalog: not on a volume of the archiver',
      'storage.s3.endpoint: http://minio:9000 is not the s3 service',
      'storage.s3.bucket: other is not created by the s3-bucket service',
    ]);
    // The broken image: only the hot dir on the volume, and no S3.
    const old = structuredClone(doc);
    const env = old.services?.archiver?.environment as Record<string, unknown>;
    for (const k of Object.keys(env)) if (k.startsWith('KAFKA_ARCHIVE_STORAGE__')) delete env[k];
    expect(
      composeProblems(old, { KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: '/var/lib/kafka-archive/hot' }),
    ).toEqual([
      'catalog.dir ./kafka-archive-data/catalog: not on a volume of the archiver',
      'disk.historyDir ./kafka-archive-data/disk-history: not on a volume of the archiver',
      'storage.local.dir ./kafka-archive-data/cold: not on a volume of the archiver',
      'storage.type: the archiver does not tier to the s3 service',
    ]);
  });

  it('runs a single-node KRaft broker with an internal and a host listener', () => {
    const kafka = services.kafka as Service;
    expect(kafka.image).toBe('apache/kafka:4.1.1');
    const env = environmentOf(kafka);
    expect(env).toMatchObject({
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    });
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${env.KAFKA_NODE_ID}@kafka:29093`);
    // Every listener has a security protocol, and every advertised listener is a listener.
    const names = (list: string | undefined) =>
      (list ?? '').split(',').map((l) => l.trim().split(':')[0]);
    const mapped = names(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP);
    for (const l of names(env.KAFKA_LISTENERS)) expect(mapped).toContain(l);
    for (const l of names(env.KAFKA_ADVERTISED_LISTENERS))
      expect(names(env.KAFKA_LISTENERS)).toContain(l);
    expect(env.KAFKA_ADVERTISED_LISTENERS).toContain('//localhost:9092');
    expect(kafka.ports).toEqual(['127.0.0.1:9092:9092']);
    expect(JSON.stringify(kafka.healthcheck?.test)).toContain(
      '/opt/kafka/bin/kafka-broker-api-versions.sh',
    );
  });

  it('runs versitygw with the posix backend on 7070', () => {
    const s3 = services.s3 as Service;
    expect(s3.image).toMatch(/^versity\/versitygw(:|$)/);
    expect(s3.command).toEqual(['--port', ':7070', 'posix', '/data']);
    expect(Object.keys(environmentOf(s3)).sort()).toEqual(['ROOT_ACCESS_KEY', 'ROOT_SECRET_KEY']);
    expect(volumesOf(s3).map((v) => v.target)).toEqual(['/data']);
    expect(s3.ports).toEqual(['127.0.0.1:7070:7070']);
  });

  it('creates the bucket with a one-shot service in the s3 image, on the s3 volume', () => {
    const init = services['s3-bucket'] as Service;
    expect(init.image).toBe((services.s3 as Service).image);
    expect(init.entrypoint).toEqual(['mkdir', '-p', '/data/kafka-archive']);
    expect(volumesOf(init)).toEqual([{ source: 's3-data', target: '/data' }]);
    expect(init.restart).toBe('no');
    expect(JSON.stringify((services.s3 as Service).healthcheck?.test)).toContain('7070');
  });

  it('builds the archiver here, points it at the kafka service and tiers to the s3 service', () => {
    const archiver = services.archiver as Service;
    expect(archiver.build).toBe('.');
    expect(archiver.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      s3: { condition: 'service_healthy' },
      's3-bucket': { condition: 'service_completed_successfully' },
    });
    const env = environmentOf(archiver);
    const config = loadConfig({ env: { ...dockerfileEnv, ...env } });
    expect(config.kafka.brokers).toEqual(['kafka:19092']);
    expect(config.archiver.topicPatterns.length).toBeGreaterThan(0);
    expect(config.dataDir).toBe('/var/lib/kafka-archive');
    expect([config.archiver.hotDir, config.catalog.dir, config.disk.historyDir]).toEqual([
      '/var/lib/kafka-archive/hot',
      '/var/lib/kafka-archive/catalog',
      '/var/lib/kafka-archive/disk-history',
    ]);
    expect(config.storage).toMatchObject({
      type: 's3',
      s3: { endpoint: 'http://s3:7070', bucket: 'kafka-archive' },
    });
    expect(JSON.stringify(archiver.healthcheck?.test)).toContain('/healthz');
  });
});

describe('Dockerfile', () => {
  const ops = (op: string) => dockerfile.filter((i) => i.op === op);
  const runtime = lastStage(dockerfile);

  it('is a multi-stage build on a glibc (Debian) Node 24 base', () => {
    const froms = ops('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const arg = ops('ARG').find((i) => i.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toBe('NODE_IMAGE=node:24-bookworm-slim');
    for (const f of froms) expect(f.args).toMatch(/^\$\{NODE_IMAGE\} AS /);
  });

  it('runs as a non-root user with the CLI as entrypoint', () => {
    const user = runtime.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
    const last = (op: string) => runtime.filter((i) => i.op === op).at(-1)?.args;
    expect(JSON.parse(last('ENTRYPOINT') ?? 'null')).toEqual(['node', '/app/bin/kafka-archive.js']);
    expect(JSON.parse(last('CMD') ?? 'null')).toEqual(['run']);
    expect(last('WORKDIR')).toBe('/app');
    expect(JSON.parse(last('VOLUME') ?? 'null')).toEqual(['/var/lib/kafka-archive']);
  });

  it('sets only real config keys', () => {
    expect(dockerfileEnv).toEqual({ KAFKA_ARCHIVE_DATA_DIR: '/var/lib/kafka-archive' });
    const c = loadConfig({ env: dockerfileEnv });
    for (const dir of [c.archiver.hotDir, c.catalog.dir, c.storage.local.dir, c.disk.historyDir])
      expect(dir.startsWith('/var/lib/kafka-archive/')).toBe(true);
  });

  it('copies nothing that .dockerignore excludes', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const p of ['node_modules', 'dist', '.cache', '.git']) expect(ignored).toContain(p);
    const fromContext = ops('COPY')
      .filter((i) => !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(fromContext.length).toBeGreaterThan(0);
    for (const src of fromContext) {
      for (const pattern of ignored)
        expect(src.startsWith(pattern), `${src} vs ${pattern}`).toBe(false);
    }
  });
});
