// Static checks of docker-compose.yml, the Dockerfile and .dockerignore (no Docker engine needed).
// The same checks, against the built loader in dist/, are `node scripts/check-compose.mjs`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_PREFIX, envOverrides, loadConfig, type Config } from '../../src/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (name: string) => readFileSync(join(ROOT, name), 'utf8');

type Env = Record<string, string | undefined>;
interface Service {
  image?: string;
  build?: unknown;
  command?: unknown;
  environment?: Record<string, unknown> | string[];
  depends_on?: string[] | Record<string, { condition?: string } | null>;
  volumes?: (string | { source?: string; target?: string })[];
  ports?: (string | number | { host_ip?: string })[];
  healthcheck?: { test?: unknown };
  stop_grace_period?: string;
}
interface ComposeDoc {
  services?: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Compose interpolation as a fresh checkout sees it: ${VAR:-default} -> default, $$ -> $. */
function interpolate(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
      (m, _name: string, def: string | undefined) => (m === '$$' ? '$' : (def ?? '')),
    );
  }
  if (Array.isArray(value)) return value.map(interpolate);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
  }
  return value;
}

function environmentOf(service: Service | undefined): Env {
  const env = service?.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((item) => {
        const eq = item.indexOf('=');
        return eq < 0 ? [item, undefined] : [item.slice(0, eq), item.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v === null ? undefined : String(v)]),
  );
}

function volumesOf(service: Service | undefined): { source?: string; target?: string }[] {
  return (service?.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return v;
    const [a, b] = v.split(':');
    return b === undefined ? { target: a } : { source: a, target: b };
  });
}

const isNamedVolume = (s: string | undefined): s is string =>
  s !== undefined && s !== '' && !/^[./~]/.test(s) && !s.includes('/');

function portHostIp(port: string | number | { host_ip?: string }): string | undefined {
  if (typeof port === 'object') return port.host_ip;
  const parts = String(port).split(':');
  return parts.length === 3 ? parts[0] : undefined;
}

/** "60s", "1m30s", "1h" -> seconds; NaN when unparsable. */
function durationSeconds(value: string | undefined): number {
  const s = (value ?? '').trim();
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|us|h|m|s)/g)) {
    total += Number(m[1]) * (units[m[2] as string] ?? NaN);
    consumed += m[0].length;
  }
  return s.length > 0 && consumed === s.length ? total : NaN;
}

interface Instruction {
  op: string;
  args: string;
}
function dockerfileInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    const m = /^(\S+)\s*(.*)$/.exec(current);
    if (m) out.push({ op: (m[1] as string).toUpperCase(), args: m[2] as string });
    current = '';
  }
  return out;
}

/** Instructions of the last (runtime) stage. */
const lastStage = (ins: Instruction[]) => ins.slice(ins.map((i) => i.op).lastIndexOf('FROM'));

function dockerfileArchiveEnv(ins: Instruction[]): Env {
  const env: Env = {};
  for (const { op, args } of lastStage(ins)) {
    if (op !== 'ENV') continue;
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      const [name, value] = [m[1] as string, m[2] as string];
      if (name.startsWith(ENV_PREFIX))
        env[name] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    }
  }
  return env;
}

/** Every problem found in a compose document (empty when it is fine). */
function composeProblems(doc: ComposeDoc, dockerfileEnv: Env): string[] {
  const problems: string[] = [];
  const services = doc.services ?? {};
  for (const name of ['kafka', 's3', 'archiver']) {
    if (services[name] === undefined) problems.push(`services.${name}: missing`);
  }
  const declared = new Set(Object.keys(doc.volumes ?? {}));
  const used = new Set<string>();
  for (const [name, svc] of Object.entries(services)) {
    if (svc.image === undefined && svc.build === undefined)
      problems.push(`services.${name}: needs an image or a build`);
    const deps = svc.depends_on ?? [];
    const entries: [string, { condition?: string }][] = Array.isArray(deps)
      ? deps.map((d) => [d, {}])
      : Object.entries(deps).map(([d, v]) => [d, v ?? {}]);
    for (const [dep, opts] of entries) {
      const target = services[dep];
      if (target === undefined) problems.push(`services.${name}.depends_on: unknown ${dep}`);
      else if (opts.condition === 'service_healthy' && target.healthcheck === undefined)
        problems.push(`services.${name}.depends_on: ${dep} has no healthcheck`);
    }
    for (const { source } of volumesOf(svc)) {
      if (!isNamedVolume(source)) continue;
      used.add(source);
      if (!declared.has(source)) problems.push(`services.${name}.volumes: ${source} not declared`);
    }
    for (const p of svc.ports ?? []) {
      if (portHostIp(p) !== '127.0.0.1')
        problems.push(`services.${name}.ports: ${JSON.stringify(p)} not bound to 127.0.0.1`);
    }
  }
  for (const v of declared) if (!used.has(v)) problems.push(`volumes.${v}: not used`);

  const archiver = services.archiver;
  if (archiver === undefined) return problems;
  const env: Env = { ...dockerfileEnv };
  for (const [k, v] of Object.entries(environmentOf(archiver))) {
    if (!k.startsWith(ENV_PREFIX)) continue;
    if (v === undefined) problems.push(`${k}: no value`);
    else env[k] = v;
  }
  const mapped = new Set(envOverrides(env).sources.values());
  for (const k of Object.keys(env)) {
    if (!mapped.has(k)) problems.push(`${k}: not a config key path`);
  }
  let config: Config | undefined;
  try {
    config = loadConfig({ env });
  } catch (err) {
    problems.push(`archiver config: ${(err as Error).message}`);
  }
  if (config !== undefined) {
    const advertised = (environmentOf(services.kafka).KAFKA_ADVERTISED_LISTENERS ?? '').split(',');
    for (const b of config.kafka.brokers) {
      if (!advertised.some((l) => l.trim().endsWith(`://${b}`)))
        problems.push(`kafka.brokers: ${b} is not advertised by the kafka service`);
    }
    const hot = config.archiver.hotDir;
    const onVolume = volumesOf(archiver).some(
      ({ source, target }) =>
        source !== undefined && (hot === target || hot.startsWith(`${target}/`)),
    );
    if (!onVolume) problems.push(`archiver.hotDir ${hot}: not on a volume`);
  }
  if (!(durationSeconds(archiver.stop_grace_period) >= 60))
    problems.push(`services.archiver.stop_grace_period: ${archiver.stop_grace_period} < 60s`);
  return problems;
}

const doc = interpolate(parse(read('docker-compose.yml'), { uniqueKeys: true })) as ComposeDoc;
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
    expect(problems).toContain('depends_on: unknown zookeeper');
    expect(problems).toContain('depends_on: kafka has no healthcheck');
    expect(problems).toContain('stop_grace_period: 10s < 60s');
    expect(problems).toContain('undeclared not declared');
    expect(problems).toContain('volumes.archive-hot: not used');
    expect(problems).toContain('"7070:7070" not bound to 127.0.0.1');
  });

  it('the checks catch a valid config that does not fit the stack', () => {
    const broken = structuredClone(doc);
    const archiver = broken.services?.archiver as Service;
    archiver.environment = {
      ...(archiver.environment as Record<string, unknown>),
      KAFKA_ARCHIVE_KAFKA__BROKERS: 'elsewhere:9092',
      KAFKA_ARCHIVE_ARCHIVER__HOT_DIR: '/tmp/hot',
    };
    expect(composeProblems(broken, dockerfileEnv)).toEqual([
      'kafka.brokers: elsewhere:9092 is not advertised by the kafka service',
      'archiver.hotDir /tmp/hot: not on a volume',
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

  it('builds the archiver here and points it at the kafka service', () => {
    const archiver = services.archiver as Service;
    expect(archiver.build).toBe('.');
    expect(archiver.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
    const env = environmentOf(archiver);
    const config = loadConfig({ env: { ...dockerfileEnv, ...env } });
    expect(config.kafka.brokers).toEqual(['kafka:19092']);
    expect(config.archiver.topicPatterns.length).toBeGreaterThan(0);
    expect(config.archiver.hotDir).toBe('/var/lib/kafka-archive/hot');
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
    expect(Object.keys(dockerfileEnv)).toEqual(['KAFKA_ARCHIVE_ARCHIVER__HOT_DIR']);
    expect(loadConfig({ env: dockerfileEnv }).archiver.hotDir).toBe('/var/lib/kafka-archive/hot');
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
