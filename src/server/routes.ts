import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  archivedGenerations,
  archivedOffsets,
  lookupTime,
  matchArchivedTopics,
  readRecords,
  requireDataAtTime,
  type Catalog,
} from '../catalog/index.js';
import { topicOfStream, type SegmentSource } from '../archive/index.js';
import { ArchiveError, describeError, ErrorCodes, httpStatusOf } from '../errors.js';
import {
  renderDiskReportHtml,
  type DiskReport,
  type FleetReport,
  type ReserveControl,
} from '../disk/index.js';
import type { Logger } from '../log/index.js';
import { httpError } from './errors.js';
import { NDJSON_TYPE, send, sendError } from './respond.js';
import { restoreHandlers, type RestoreJobsApi } from './restore-routes.js';
import { adminHandlers, type CatalogRebuildsApi } from './admin-routes.js';
import { readiness, type ArchiverView } from './health.js';
import { recordJson } from '../segment/index.js';
import { toJson } from '../util/json.js';
import type { FleetSource, Metrics } from './metrics.js';
import { parseLookupQuery, parseOffsetsQuery, parseReadQuery, parseTierQuery } from './params.js';
import { challenge, type Access, type Authenticator } from './auth.js';
import type { Tierer } from '../tiering/index.js';

export interface RouteContext {
  archiver: ArchiverView;
  catalog: Catalog | null;
  source: SegmentSource;
  metrics: Metrics;
  log: Logger;
  stopping: () => boolean;
  /** The scheduled disk report (served at /disk/report and /api/disk/report). */
  reports?: { lastReport: DiskReport | null } | null;
  /** Most /api/read responses streaming at once; more get 503 (default 8). */
  maxConcurrentReads?: number;
  /** Bearer-token checks (server.auth); without it every endpoint is open. */
  auth?: Authenticator;
  /** /metrics without a token even when tokens are configured (server.auth.openMetrics). */
  openMetrics?: boolean;
  /** The tierer of the service (POST /api/tier), null when tiering is off. */
  tierer?: Pick<Tierer, 'runOnce'> | null;
  /** The OpenAPI document served at /openapi.json. */
  openApi?: string;
  /** Restore jobs of the service (/api/restores); null or absent: those routes answer 503. */
  restores?: RestoreJobsApi | null;
  /** The disk fleet (/api/disk/fleet); null or absent: 503 (disk.fleet.enabled is false). */
  fleet?: FleetSource | null;
  /** Catalog rebuilds of the service (/api/catalog/rebuild); null or absent: 404. */
  rebuilds?: CatalogRebuildsApi | null;
  /** Reserve release / re-arm (/api/reserve/*), through the disk monitor; absent: 404. */
  reserves?: ReserveControl | null;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  params: Readonly<Record<string, string>>,
) => Promise<void>;

/**
 * The route table is keyed by path; a `:name` segment matches any one segment and hands it to
 * the handler as a parameter. A path may have a route per method.
 */
interface Route {
  /** GET routes also answer HEAD. */
  method: 'GET' | 'POST';
  access: Access;
  handler: Handler;
}

/** A client that takes no data for this long is cut off (it holds a read slot). */
const STALL_MS = 60_000;

/** Waits until the response can take more data, or the client went away (or stalled). */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(() => {
      res.destroy();
      done();
    }, STALL_MS);
    res.on('drain', done);
    res.on('close', done);
  });
}

function requireCatalog(catalog: Catalog | null): Catalog {
  if (catalog === null) {
    throw new ArchiveError(
      ErrorCodes.CATALOG_LOCKED,
      'this process does not hold the catalog (another process sharing it writes it): ask that process, or use the CLI',
    );
  }
  return catalog;
}

function requireReport(reports: RouteContext['reports']): DiskReport {
  const r = reports?.lastReport;
  if (r === null || r === undefined) {
    throw new ArchiveError(
      ErrorCodes.DISK_REPORT_UNAVAILABLE,
      reports == null
        ? 'disk reports are off (disk.monitor.enabled is false)'
        : 'the first disk report is still being collected; try again shortly',
      { retryable: true },
    );
  }
  return r;
}

function requireFleet(fleet: RouteContext['fleet']): FleetReport {
  if (fleet == null) {
    throw new ArchiveError(
      ErrorCodes.DISK_FLEET_OFF,
      'the disk fleet is off here (disk.fleet.enabled is false)',
    );
  }
  const r = fleet.report();
  if (r === null) {
    const why = fleet.lastError();
    throw new ArchiveError(
      ErrorCodes.DISK_REPORT_UNAVAILABLE,
      `the disk fleet topic has not been read yet${why !== null ? ` (last attempt: ${why})` : ''}; try again shortly`,
      { retryable: true },
    );
  }
  return r;
}

/** lookup and read take one topic: a pattern matching several is a usage error. */
function requireExactTopic(catalog: Catalog, topic: string): void {
  if (archivedGenerations(catalog).has(topic)) return;
  const matched = matchArchivedTopics(catalog, topic, 'all').map((s) => topicOfStream(s).topic); // throws ARCHIVE_TOPIC_UNKNOWN (404)
  throw new ArchiveError(
    ErrorCodes.USAGE,
    `topic: ${JSON.stringify(topic)} is not an archived topic name (as a pattern it matches ${matched.slice(0, 10).join(', ')}${matched.length > 10 ? ', ...' : ''}); give one topic name`,
  );
}

/** The HTTP routes: health, readiness, metrics and the read API over the live catalog. */
export function createRoutes(
  ctx: RouteContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxReads = ctx.maxConcurrentReads ?? 8;
  let reading = 0;

  const handlers: Record<string, Handler> = {
    async '/healthz'(_req, res) {
      send(res, 200, `${JSON.stringify({ status: 'ok' })}\n`);
    },

    async '/readyz'(_req, res) {
      const r = readiness(ctx.archiver, ctx.stopping());
      const { ready, ...rest } = r;
      send(
        res,
        ready ? 200 : 503,
        `${JSON.stringify({ status: ready ? 'ready' : 'not ready', ...rest })}\n`,
      );
    },

    async '/metrics'(_req, res) {
      const text = await ctx.metrics.registry.metrics();
      send(res, 200, text, ctx.metrics.registry.contentType);
    },

    async '/disk/report'(_req, res) {
      send(res, 200, renderDiskReportHtml(requireReport(ctx.reports)), 'text/html; charset=utf-8');
    },

    async '/api/disk/report'(_req, res) {
      send(res, 200, `${toJson(requireReport(ctx.reports))}\n`);
    },

    async '/api/disk/fleet'(_req, res) {
      send(res, 200, `${toJson(requireFleet(ctx.fleet))}\n`);
    },

    async '/api/offsets'(_req, res, url) {
      const { topic, generation } = parseOffsetsQuery(url.searchParams);
      const rows = await archivedOffsets(
        requireCatalog(ctx.catalog),
        ctx.source,
        topic,
        generation,
      );
      send(res, 200, `${toJson(rows)}\n`);
    },

    async '/api/lookup'(_req, res, url) {
      const { topic, time, generation } = parseLookupQuery(url.searchParams);
      const catalog = requireCatalog(ctx.catalog);
      requireExactTopic(catalog, topic);
      const rows = await lookupTime(catalog, ctx.source, topic, time, generation);
      requireDataAtTime(rows, topic, time);
      send(res, 200, `${toJson(rows)}\n`);
    },

    async '/api/read'(_req, res, url) {
      const req = parseReadQuery(url.searchParams);
      const catalog = requireCatalog(ctx.catalog);
      requireExactTopic(catalog, req.topic);
      if (reading >= maxReads) {
        res.setHeader('retry-after', '1');
        sendError(res, httpStatusOf(ErrorCodes.BUSY), {
          error: `too many reads at once (${maxReads}); retry shortly`,
          code: ErrorCodes.BUSY,
        });
        return;
      }
      reading++;
      const records = readRecords(catalog, ctx.source, req);
      try {
        // The first record (or the error) before the headers: bad offsets and unknown
        // partitions are still answered with a JSON error and the right status.
        let next = await records.next();
        res.writeHead(200, { 'content-type': NDJSON_TYPE, 'cache-control': 'no-store' });
        try {
          while (!next.done && !res.destroyed) {
            if (!res.write(`${recordJson(req.topic, req.partition, next.value)}\n`)) {
              await writable(res);
            }
            if (res.destroyed) break;
            next = await records.next();
          }
        } catch (err) {
          // Headers are sent: cut the response so the client sees it is incomplete.
          ctx.log.warn(
            { topic: req.topic, partition: req.partition, err: describeError(err) },
            'read failed while streaming; response cut short',
          );
          res.destroy();
          return;
        }
        res.end();
      } finally {
        reading--;
        await records.return(undefined).catch(() => undefined);
      }
    },

    async '/openapi.json'(_req, res) {
      if (ctx.openApi === undefined)
        throw new ArchiveError(ErrorCodes.NOT_FOUND, 'no API document');
      send(res, 200, ctx.openApi);
    },

    async '/api/tier'(_req, res, url) {
      const filter = parseTierQuery(url.searchParams);
      const tierer = ctx.tierer ?? null;
      if (tierer === null) {
        throw new ArchiveError(
          ErrorCodes.TIERING_FAILED,
          'tiering is off in this process (tiering.enabled is false, or another process writes the catalog)',
        );
      }
      const r = await tierer.runOnce(filter);
      send(res, 200, `${toJson(r)}\n`);
    },
  };

  const read: Access = 'read';
  const get = (access: Access, handler: Handler): Route[] => [{ method: 'GET', access, handler }];
  const h = (path: string) => handlers[path] as Handler;
  const restore = restoreHandlers(ctx.restores ?? null);
  const admin = adminHandlers(ctx.rebuilds ?? null, ctx.reserves ?? null);
  const post = (handler: Handler): Route[] => [{ method: 'POST', access: 'admin', handler }];
  const routes: Record<string, Route[]> = {
    '/healthz': get('open', h('/healthz')),
    '/readyz': get('open', h('/readyz')),
    '/openapi.json': get('open', h('/openapi.json')),
    '/metrics': get(ctx.openMetrics === true ? 'open' : read, h('/metrics')),
    '/disk/report': get(read, h('/disk/report')),
    '/api/disk/report': get(read, h('/api/disk/report')),
    '/api/disk/fleet': get(read, h('/api/disk/fleet')),
    '/api/offsets': get(read, h('/api/offsets')),
    '/api/lookup': get(read, h('/api/lookup')),
    '/api/read': get(read, h('/api/read')),
    '/api/tier': [{ method: 'POST', access: 'admin', handler: h('/api/tier') }],
    '/api/restores': [
      { method: 'GET', access: 'admin', handler: restore.list },
      { method: 'POST', access: 'admin', handler: restore.start },
    ],
    '/api/restores/:id': get('admin', restore.get),
    '/api/catalog/rebuild': post(admin.rebuild),
    '/api/catalog/rebuild/:id': get('admin', admin.rebuildJob),
    '/api/reserve/release': post(admin.release),
    '/api/reserve/rearm': post(admin.rearm),
  };

  const dispatch = async (req: IncomingMessage, res: ServerResponse): Promise<string> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, httpStatusOf(ErrorCodes.USAGE), {
        error: 'malformed request URL',
        code: ErrorCodes.USAGE,
      });
      return 'other';
    }
    const found = matchRoute(routes, url.pathname);
    if (found === null) {
      sendError(res, httpStatusOf(ErrorCodes.NOT_FOUND), {
        error: `no such endpoint ${JSON.stringify(url.pathname)}; endpoints: ${Object.keys(routes).join(', ')}`,
        code: ErrorCodes.NOT_FOUND,
      });
      return 'other';
    }
    const methods = found.routes.flatMap((r) =>
      r.method === 'GET' ? ['GET', 'HEAD'] : [r.method],
    );
    const route = found.routes.find(
      (r) => r.method === req.method || (r.method === 'GET' && req.method === 'HEAD'),
    );
    if (route === undefined) {
      res.setHeader('allow', methods.join(', '));
      sendError(res, httpStatusOf(ErrorCodes.METHOD_NOT_ALLOWED), {
        error: `${req.method} is not allowed; use ${found.routes.map((r) => r.method).join(' or ')}`,
        code: ErrorCodes.METHOD_NOT_ALLOWED,
      });
      return found.path;
    }
    try {
      ctx.auth?.check(req, route.access);
      await route.handler(req, res, url, found.params);
    } catch (err) {
      const e = httpError(err);
      if (e.status === 401) res.setHeader('www-authenticate', challenge(e.body.code));
      if (e.internal) {
        ctx.log.warn(
          { path: url.pathname, query: url.search, status: e.status, code: e.body.code, err },
          'request failed',
        );
      }
      if (res.headersSent) res.destroy();
      else sendError(res, e.status, e.body);
    }
    return found.path;
  };

  return (req, res) => {
    void dispatch(req, res).then(
      (route) => {
        const count = () => ctx.metrics.request(route, res.statusCode);
        if (res.writableFinished || res.destroyed) count();
        else res.once('close', count);
      },
      (err: unknown) => {
        ctx.log.error({ err }, 'request handler failed');
        if (!res.headersSent) sendError(res, 500, httpError(err).body);
        else res.destroy();
      },
    );
  };
}

/**
 * The routes of a path: an exact key, else a key whose `:name` segments match one non-empty
 * segment each (percent-decoded into `params`). `path` is the key (the metrics' route label).
 */
export function matchRoute<R>(
  routes: Readonly<Record<string, R>>,
  pathname: string,
): { path: string; routes: R; params: Record<string, string> } | null {
  if (Object.hasOwn(routes, pathname) && !pathname.includes('/:'))
    return { path: pathname, routes: routes[pathname] as R, params: {} };
  const parts = pathname.split('/');
  for (const [path, r] of Object.entries(routes)) {
    if (!path.includes('/:')) continue;
    const pattern = path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((seg, i) => {
      const part = parts[i] as string;
      if (!seg.startsWith(':')) return seg === part;
      if (part === '') return false;
      try {
        params[seg.slice(1)] = decodeURIComponent(part);
      } catch {
        return false;
      }
      return true;
    });
    if (ok) return { path, routes: r, params };
  }
  return null;
}
