// The checks of docker-compose.yml and the Dockerfile, without a Docker engine: one module used
// by `node scripts/check-compose.mjs` (against the built config loader in dist/) and by
// test/unit/compose.test.ts (against the sources). Types: compose-checks.d.mts.
// - services kafka, s3, s3-bucket and archiver exist, each with an image or a build;
// - depends_on targets exist (with a healthcheck when service_healthy is required);
// - named volumes are declared (and declared volumes are used); ports bind to 127.0.0.1 only;
// - every KAFKA_ARCHIVE_* variable of the archiver (Dockerfile ENV + compose environment) is a
//   real config key: they go through the project's own loadConfig, which rejects unknown keys;
// - the archiver's brokers are advertised by the kafka service; every directory it writes
//   (hot tier, catalog, local cold tier, disk history) is on one of its volumes; it tiers to the
//   s3 service's bucket, which a one-shot service creates before it starts; it has a
//   healthcheck and a stop grace period that leaves time to seal segments;
// - the Dockerfile is multi-stage and its runtime stage runs as a non-root user.

import { URL } from 'node:url';

export const PREFIX = 'KAFKA_ARCHIVE_';
export const MIN_GRACE_SECONDS = 60;

/**
 * Compose variable interpolation with an empty environment (what a fresh checkout without a
 * .env file gets): ${VAR:-default} / ${VAR-default} -> default, ${VAR} -> "", $$ -> $.
 */
export function interpolate(value, problems, where) {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (m, name, op, arg, bare) => {
        if (m === '$$') return '$';
        if (bare !== undefined || op === undefined) {
          problems.push(`${where}: \${${name ?? bare}} has no default; it is empty unless set`);
          return '';
        }
        if (op.endsWith('?')) {
          problems.push(`${where}: \${${name}} is required (${arg})`);
          return '';
        }
        return op.endsWith('-') ? arg : '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, problems, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, problems, `${where}.${k}`)]),
    );
  }
  return value;
}

/** A service's environment as name -> string (mapping or "NAME=value" list form). */
export function environmentOf(service) {
  const env = service?.environment ?? {};
  const out = {};
  if (Array.isArray(env)) {
    for (const item of env) {
      const s = String(item);
      const eq = s.indexOf('=');
      out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? undefined : s.slice(eq + 1);
    }
  } else {
    for (const [k, v] of Object.entries(env)) out[k] = v === null ? undefined : String(v);
  }
  return out;
}

/** Duration in seconds from a compose duration ("60s", "1m30s", "1h"); NaN when unparsable. */
export function durationSeconds(value) {
  const s = String(value ?? '').trim();
  const units = { h: 3600, m: 60, s: 1, ms: 0.001, us: 1e-6 };
  const re = /(\d+(?:\.\d+)?)(ms|us|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * units[m[2]];
    consumed += m[0].length;
  }
  return s.length > 0 && consumed === s.length ? total : NaN;
}

/** Dockerfile instructions (continuation lines joined, comments dropped). */
export function dockerfileInstructions(text) {
  const out = [];
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
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2] });
    current = '';
  }
  return out;
}

/** The KAFKA_ARCHIVE_* variables set by ENV in the Dockerfile's last stage. */
export function dockerfileArchiveEnv(instructions) {
  const lastFrom = instructions.map((i) => i.op).lastIndexOf('FROM');
  const env = {};
  for (const { op, args } of instructions.slice(lastFrom)) {
    if (op !== 'ENV') continue;
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      const value = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
      if (m[1].startsWith(PREFIX)) env[m[1]] = value;
    }
  }
  return env;
}

export function checkDockerfile(text) {
  const problems = [];
  const ins = dockerfileInstructions(text);
  const froms = ins.filter((i) => i.op === 'FROM');
  if (froms.length < 2)
    problems.push(`Dockerfile: expected a multi-stage build, found ${froms.length} FROM`);
  const lastFrom = ins.map((i) => i.op).lastIndexOf('FROM');
  const users = ins.slice(lastFrom).filter((i) => i.op === 'USER');
  const user = users.at(-1)?.args.split(':')[0];
  if (user === undefined) problems.push('Dockerfile: the runtime stage has no USER (runs as root)');
  else if (user === 'root' || user === '0') problems.push(`Dockerfile: runtime USER is ${user}`);
  if (!ins.slice(lastFrom).some((i) => i.op === 'ENTRYPOINT'))
    problems.push('Dockerfile: the runtime stage has no ENTRYPOINT');
  return problems;
}

const isNamedVolume = (source) =>
  typeof source === 'string' && source !== '' && !/^[./~]/.test(source) && !source.includes('/');

/** The host address a published port binds to ("ip:host:container" or long syntax). */
function portHostIp(port) {
  if (typeof port === 'object' && port !== null) return port.host_ip;
  const parts = String(port).split(':');
  return parts.length === 3 ? parts[0] : undefined;
}

/** Volumes of a service as { source, target } (short "src:dst[:mode]" and long syntax). */
export function volumesOf(service) {
  return (service?.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const parts = v.split(':');
      return parts.length === 1
        ? { source: undefined, target: parts[0] }
        : { source: parts[0], target: parts[1] };
    }
    return { source: v.source, target: v.target };
  });
}

/**
 * Structure checks of a parsed, interpolated compose document. `loadConfig` is the project's
 * config loader; `envOverrides` maps variables to key paths (to catch ignored names).
 */
export function checkCompose(doc, { loadConfig, envOverrides, dockerfileEnv = {} }) {
  const problems = [];
  const services = doc?.services ?? {};
  for (const name of ['kafka', 's3', 's3-bucket', 'archiver']) {
    if (services[name] === undefined) problems.push(`services.${name}: missing`);
  }
  const declaredVolumes = new Set(Object.keys(doc?.volumes ?? {}));
  const usedVolumes = new Set();
  for (const [name, svc] of Object.entries(services)) {
    if (svc?.image === undefined && svc?.build === undefined)
      problems.push(`services.${name}: needs an image or a build`);
    const deps = svc?.depends_on ?? [];
    const depEntries = Array.isArray(deps)
      ? deps.map((d) => [d, {}])
      : Object.entries(deps).map(([d, v]) => [d, v ?? {}]);
    for (const [dep, opts] of depEntries) {
      if (services[dep] === undefined)
        problems.push(`services.${name}.depends_on: unknown service ${dep}`);
      else if (opts.condition === 'service_healthy' && services[dep].healthcheck === undefined)
        problems.push(`services.${name}.depends_on: ${dep} must be healthy but has no healthcheck`);
    }
    for (const { source } of volumesOf(svc)) {
      if (!isNamedVolume(source)) continue;
      usedVolumes.add(source);
      if (!declaredVolumes.has(source))
        problems.push(`services.${name}.volumes: named volume ${source} is not declared`);
    }
    for (const p of svc?.ports ?? []) {
      if (portHostIp(p) !== '127.0.0.1')
        problems.push(`services.${name}.ports: ${JSON.stringify(p)} is not bound to 127.0.0.1`);
    }
  }
  for (const v of declaredVolumes) {
    if (!usedVolumes.has(v)) problems.push(`volumes.${v}: declared but not used`);
  }

  const kafka = services.kafka;
  if (kafka !== undefined) {
    const env = environmentOf(kafka);
    for (const key of [
      'KAFKA_NODE_ID',
      'KAFKA_PROCESS_ROLES',
      'KAFKA_LISTENERS',
      'KAFKA_ADVERTISED_LISTENERS',
      'KAFKA_CONTROLLER_LISTENER_NAMES',
      'KAFKA_CONTROLLER_QUORUM_VOTERS',
      'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP',
      'KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR',
    ]) {
      if (env[key] === undefined) problems.push(`services.kafka.environment: ${key} is missing`);
    }
    if (kafka.healthcheck === undefined) problems.push('services.kafka: no healthcheck');
  }
  if (services.s3 !== undefined && services.s3.healthcheck === undefined)
    problems.push('services.s3: no healthcheck');

  const archiver = services.archiver;
  if (archiver !== undefined) {
    const composeEnv = environmentOf(archiver);
    const env = { ...dockerfileEnv };
    for (const [k, v] of Object.entries(composeEnv)) {
      if (!k.startsWith(PREFIX)) continue;
      if (v === undefined) problems.push(`services.archiver.environment: ${k} has no value`);
      else env[k] = v;
    }
    const { sources } = envOverrides(env);
    const mapped = new Set(sources.values());
    for (const k of Object.keys(env)) {
      if (!mapped.has(k)) problems.push(`${k}: not a config key path (ignored by the loader)`);
    }
    let config;
    try {
      config = loadConfig({ env });
    } catch (err) {
      problems.push(`archiver environment is not a valid configuration:\n${err.message}`);
    }
    if (config !== undefined && kafka !== undefined) {
      const advertised = environmentOf(kafka).KAFKA_ADVERTISED_LISTENERS ?? '';
      for (const b of config.kafka.brokers) {
        if (!advertised.split(',').some((l) => l.trim().endsWith(`://${b}`)))
          problems.push(`kafka.brokers: ${b} is not one of kafka's advertised listeners`);
      }
    }
    if (config !== undefined) {
      const dirs = {
        'archiver.hotDir': config.archiver.hotDir,
        'catalog.dir': config.catalog.dir,
        'disk.historyDir': config.disk.historyDir,
        ...(config.storage.type === 'local'
          ? { 'storage.local.dir': config.storage.local.dir }
          : {}),
      };
      for (const [key, dir] of Object.entries(dirs)) {
        const onVolume = volumesOf(archiver).some(
          ({ source, target }) =>
            source !== undefined && (dir === target || dir.startsWith(`${target}/`)),
        );
        if (!onVolume) problems.push(`${key} ${dir}: not on a volume of the archiver`);
      }
      if (config.storage.type !== 's3') {
        problems.push('storage.type: the archiver does not tier to the s3 service');
      } else {
        const { endpoint, bucket } = config.storage.s3;
        if (endpoint === undefined || new URL(endpoint).hostname !== 's3')
          problems.push(`storage.s3.endpoint: ${endpoint} is not the s3 service`);
        const made = JSON.stringify(services['s3-bucket']?.entrypoint ?? []);
        if (!made.includes(`/data/${bucket}`))
          problems.push(`storage.s3.bucket: ${bucket} is not created by the s3-bucket service`);
        const s3env = environmentOf(services.s3);
        if (
          config.storage.s3.accessKeyId !== s3env.ROOT_ACCESS_KEY ||
          config.storage.s3.secretAccessKey !== s3env.ROOT_SECRET_KEY
        )
          problems.push("storage.s3 credentials: not the s3 service's root credentials");
      }
    }
    const deps = archiver.depends_on ?? {};
    const conditions = Array.isArray(deps) ? {} : deps;
    for (const [dep, condition] of [
      ['kafka', 'service_healthy'],
      ['s3', 'service_healthy'],
      ['s3-bucket', 'service_completed_successfully'],
    ]) {
      if (conditions[dep]?.condition !== condition)
        problems.push(`services.archiver.depends_on: ${dep} with condition ${condition}`);
    }
    if (archiver.healthcheck === undefined) problems.push('services.archiver: no healthcheck');
    const grace = durationSeconds(archiver.stop_grace_period);
    if (!(grace >= MIN_GRACE_SECONDS))
      problems.push(
        `services.archiver.stop_grace_period: ${archiver.stop_grace_period ?? '(default 10s)'}; at least ${MIN_GRACE_SECONDS}s to seal open segments`,
      );
  }
  return problems;
}
