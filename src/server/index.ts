/**
 * The HTTP server of `kafka-archive run`: liveness (/healthz), readiness (/readyz), Prometheus
 * metrics (/metrics) and a read API over the service's live catalog (/api/offsets, /api/lookup,
 * /api/read, /api/disk/report), and admin actions (POST /api/tier; restore jobs at
 * /api/restores, run by the service's RestoreJobs; catalog rebuild jobs at /api/catalog/rebuild;
 * reserves at /api/reserve/release and /api/reserve/rearm). node:http or node:https; bearer tokens of
 * role read or admin (server.auth) guard everything but /healthz, /readyz and /openapi.json;
 * without tokens it refuses a non-loopback host unless server.allowUnauthenticated is set
 * (checked by the config schema).
 */
import type { DiskReport, ReserveControl } from '../disk/index.js';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Catalog } from '../catalog/index.js';
import type { Config } from '../config/index.js';
import { ArchiveError, errnoCode, ErrorCodes } from '../errors.js';
import type { Logger } from '../log/index.js';
import type { SegmentSource } from '../archive/index.js';
import type { Tierer } from '../tiering/index.js';
import type { ArchiverView } from './health.js';
import { createMetrics, type FleetSource, type GroupSnapshotStats } from './metrics.js';
import { createRoutes } from './routes.js';
import type { RestoreJobsApi } from './restore-routes.js';
import type { CatalogRebuildsApi } from './admin-routes.js';
import { Authenticator } from './auth.js';
import { openApiDocument } from './openapi.js';
import { VolumeSampler, type VolumeSampleSource } from './volumes.js';

export { httpError } from './errors.js';
export type { ErrorBody, HttpError } from './errors.js';
export { readiness } from './health.js';
export type { ArchiverView, Readiness } from './health.js';
export { createMetrics, METRIC_PREFIX, WATERMARK_LEVEL } from './metrics.js';
export type { Metrics, MetricsDeps, FleetSource } from './metrics.js';
export {
  MAX_READ_COUNT,
  parseLookupQuery,
  parseOffsetsQuery,
  parseReadQuery,
  parseTime,
} from './params.js';
export { VolumeSampler } from './volumes.js';
export type { VolumeSampleSource, VolumeSamplerOptions } from './volumes.js';

export type ServerConfig = Config['server'];

/** What the server reads: the running service's parts (an ArchiverService fits) and the config. */
export interface ServerDeps {
  archiver: ArchiverView;
  /** The live catalog; null when another process writes it (the /api routes then answer 503). */
  catalog: Catalog | null;
  /** Opens catalogued segments from either tier (the service's object store and hot directory). */
  source: SegmentSource;
  tierer: Pick<Tierer, 'totals' | 'failures' | 'runOnce'> | null;
  /** The disk monitor, when running: the watermark-state gauge shows the state it acts on. */
  monitor?: VolumeSampleSource | null;
  /** The scheduled disk report: growth, forecasts and unclean-restart headroom gauges. */
  reports?: { lastReport: DiskReport | null } | null;
  /** Consumer-group snapshots (archiver.groups), when configured. */
  groups?: { stats: GroupSnapshotStats } | null;
  /** The whole configuration: hot directory (reads) and disk volumes (gauges). */
  config: Config;
  /** Restore jobs run by the service (/api/restores); absent: those routes answer 404. */
  restores?: RestoreJobsApi | null;
  /** The disk fleet (disk.fleet.enabled): gauges and GET /api/disk/fleet. */
  fleet?: FleetSource | null;
  /** Catalog rebuilds run by the service (/api/catalog/rebuild); absent: 404. */
  rebuilds?: CatalogRebuildsApi | null;
  /** Reserve release / re-arm through the disk monitor (/api/reserve/*); absent: 404. */
  reserves?: ReserveControl | null;
}

export interface ServerHandle {
  /** Where it listens, e.g. http://127.0.0.1:9464 (the real port when server.port is 0). */
  url: string;
  /** Stop listening and cut open connections (in-flight reads end incomplete). */
  close(): Promise<void>;
  /**
   * HTTPS: read server.tls.certFile / keyFile again and use them for new connections (SIGHUP).
   * A file that cannot be read or does not parse keeps the current certificate and rejects.
   */
  reloadTls(): Promise<void>;
}

/** The certificate and key of server.tls, read now; CONFIG_INVALID naming the key otherwise. */
function readServerTls(config: ServerConfig): { cert: Buffer; key: Buffer } | null {
  const { certFile, keyFile } = config.tls;
  if (certFile === undefined || keyFile === undefined) return null;
  const read = (path: string, key: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ArchiveError(
        ErrorCodes.CONFIG_INVALID,
        `config error: server.tls.${key}: cannot read ${JSON.stringify(path)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };
  return { cert: read(certFile, 'certFile'), key: read(keyFile, 'keyFile') };
}

function listenError(err: unknown, config: ServerConfig): ArchiveError {
  const code = errnoCode(err);
  const why =
    code === 'EADDRINUSE'
      ? 'the port is in use'
      : code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? 'no such local address'
          : (err as Error).message;
  return new ArchiveError(
    ErrorCodes.CONFIG_INVALID,
    `server: cannot listen on ${config.host}:${config.port}: ${why}${code !== undefined ? ` (${code})` : ''}; set server.port (0 = any free port), server.host, or server.enabled: false`,
    { cause: err },
  );
}

/**
 * Start the HTTP server. Rejects with a user-facing CONFIG_INVALID error when it cannot listen
 * (port in use, bad host). Does not look at `config.enabled`: the caller decides.
 */
export async function startServer(
  deps: ServerDeps,
  config: ServerConfig,
  log: Logger,
): Promise<ServerHandle> {
  const serverLog = log.child({ component: 'server' });
  let stopping = false;
  const volumes = new VolumeSampler({
    config: deps.config,
    log: serverLog,
    monitor: deps.monitor ?? null,
  });
  const metrics = createMetrics({
    archiver: deps.archiver,
    monitor: deps.monitor ?? null,
    catalog: deps.catalog,
    tierer: deps.tierer,
    volumes,
    reports: deps.reports ?? null,
    groups: deps.groups ?? null,
    fleet: deps.fleet ?? null,
    stopping: () => stopping,
  });
  const auth = new Authenticator(config.auth);
  const handler = createRoutes({
    auth,
    openMetrics: config.auth.openMetrics,
    tierer: deps.tierer,
    openApi: JSON.stringify(openApiDocument()),
    archiver: deps.archiver,
    catalog: deps.catalog,
    source: deps.source,
    metrics,
    log: serverLog,
    stopping: () => stopping,
    reports: deps.reports ?? null,
    restores: deps.restores ?? null,
    fleet: deps.fleet ?? null,
    rebuilds: deps.rebuilds ?? null,
    reserves: deps.reserves ?? null,
  });
  const tls = readServerTls(config);
  let server: Server | HttpsServer;
  try {
    server = tls === null ? createServer(handler) : createHttpsServer(tls, handler);
  } catch (err) {
    throw new ArchiveError(
      ErrorCodes.CONFIG_INVALID,
      `config error: server.tls: the certificate or key does not load: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: unknown) => reject(listenError(err, config));
    server.once('error', onError);
    server.listen({ port: config.port, host: config.host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => serverLog.error({ err }, 'HTTP server error'));
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${tls === null ? 'http' : 'https'}://${host}:${addr.port}`;
  serverLog.info(
    {
      url,
      auth: auth.enabled ? 'bearer tokens' : 'none',
      endpoints: [
        '/healthz',
        '/readyz',
        '/openapi.json',
        '/metrics',
        '/api/offsets',
        '/api/lookup',
        '/api/read',
        '/api/disk/report',
        '/api/disk/fleet',
        '/api/tier',
        '/api/restores',
        '/api/catalog/rebuild',
        '/api/reserve/release',
        '/api/reserve/rearm',
      ],
    },
    'HTTP server listening',
  );
  let closed: Promise<void> | null = null;
  return {
    url,
    close() {
      closed ??= new Promise<void>((resolve) => {
        stopping = true;
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }).then(() => serverLog.info({ url }, 'HTTP server stopped'));
      return closed;
    },
    async reloadTls() {
      if (!('setSecureContext' in server)) return;
      try {
        const next = readServerTls(config);
        if (next !== null) server.setSecureContext(next);
        serverLog.info({ certFile: config.tls.certFile }, 'HTTPS certificate reloaded');
      } catch (err) {
        const e =
          err instanceof ArchiveError
            ? err
            : new ArchiveError(
                ErrorCodes.CONFIG_INVALID,
                `config error: server.tls: the new certificate or key does not load: ${(err as Error).message}`,
                { cause: err },
              );
        serverLog.error(
          { code: e.code, err: e.message },
          'HTTPS certificate not reloaded; the current one stays in use',
        );
        throw e;
      }
    },
  };
}
