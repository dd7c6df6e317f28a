import { ArchiveError, ErrorCodes } from '../errors.js';
import type { ReserveControl } from '../disk/index.js';
import type { CatalogRebuilds, RebuildJobView } from '../service/index.js';
import { toJson } from '../util/json.js';
import { parseQuery, parseBoolean, parseWholeNumber } from './params.js';
import { send } from './respond.js';
import type { Handler } from './routes.js';

/** What the routes use of the service's catalog rebuilds. */
export type CatalogRebuildsApi = Pick<CatalogRebuilds, 'start' | 'get'>;

const withLinks = (v: RebuildJobView) => ({
  ...v,
  links: { self: `/api/catalog/rebuild/${encodeURIComponent(v.id)}` },
});

function volumeOf(search: URLSearchParams): string | undefined {
  const v = parseQuery(search, ['volume']).get('volume');
  if (v === '') throw new ArchiveError(ErrorCodes.USAGE, 'volume: empty; expected a volume name');
  return v;
}

/**
 * POST /api/catalog/rebuild (202, a job), GET /api/catalog/rebuild/:id, POST
 * /api/reserve/release and /api/reserve/rearm: the CLI's `catalog rebuild` and `reserve` while
 * the service runs. The work lives below (service/rebuild.ts, disk/monitor.ts).
 */
export function adminHandlers(
  rebuilds: CatalogRebuildsApi | null,
  reserves: ReserveControl | null,
): Record<'rebuild' | 'rebuildJob' | 'release' | 'rearm', Handler> {
  const needRebuilds = (): CatalogRebuildsApi => {
    if (rebuilds === null)
      throw new ArchiveError(
        ErrorCodes.NOT_FOUND,
        'catalog rebuilds are not served by this process',
      );
    return rebuilds;
  };
  const needReserves = (): ReserveControl => {
    if (reserves === null)
      throw new ArchiveError(ErrorCodes.NOT_FOUND, 'reserves are not served by this process');
    return reserves;
  };
  return {
    async rebuild(_req, res, url) {
      const q = parseQuery(url.searchParams, ['concurrency', 'footers']);
      const c = q.get('concurrency');
      const concurrency =
        c === undefined ? 16 : Number(parseWholeNumber('concurrency', c, 1n, 1024n));
      const f = q.get('footers');
      const footers = f === undefined ? false : parseBoolean('footers', f);
      const body = withLinks(needRebuilds().start({ concurrency, useIndex: !footers }));
      res.setHeader('location', body.links.self);
      send(res, 202, `${toJson(body)}\n`);
    },
    async rebuildJob(_req, res, url, params) {
      parseQuery(url.searchParams, []);
      send(res, 200, `${toJson(withLinks(needRebuilds().get(params.id ?? '')))}\n`);
    },
    async release(_req, res, url) {
      const r = await needReserves().release(volumeOf(url.searchParams));
      send(res, 200, `${toJson(r)}\n`);
    },
    async rearm(_req, res, url) {
      const r = await needReserves().rearm(volumeOf(url.searchParams));
      send(res, 200, `${toJson(r)}\n`);
    },
  };
}
