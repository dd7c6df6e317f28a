import { ArchiveError, ErrorCodes } from '../errors.js';
import type { JobView } from '../restore/index.js';
import type { RestoreJobs } from '../service/index.js';
import { toJson } from '../util/json.js';
import { parseQuery } from './params.js';
import { send } from './respond.js';
import { apiLabel, parseRestoreBody, readJsonBody } from './restore-body.js';
import type { Handler } from './routes.js';

/** What the routes use of the service's restore jobs. */
export type RestoreJobsApi = Pick<RestoreJobs, 'start' | 'get' | 'list'>;

/** A job as the API shows it: the view and where to poll it. */
const withLinks = (v: JobView) => ({
  ...v,
  links: { self: `/api/restores/${encodeURIComponent(v.id)}` },
});

/**
 * /api/restores (GET: the jobs, POST: start one) and /api/restores/:id. The parsing and the jobs
 * live below (server/restore-body.ts, service/restore-jobs.ts); these only answer.
 */
export function restoreHandlers(
  jobs: RestoreJobsApi | null,
): Record<'list' | 'start' | 'get', Handler> {
  const require = (): RestoreJobsApi => {
    if (jobs === null)
      throw new ArchiveError(ErrorCodes.NOT_FOUND, 'restore jobs are not served by this process');
    return jobs;
  };
  return {
    async list(_req, res, url) {
      parseQuery(url.searchParams, []);
      const views = await require().list();
      send(res, 200, `${toJson(views.map(withLinks))}\n`);
    },
    async start(req, res, url) {
      parseQuery(url.searchParams, []);
      const r = require();
      const input = parseRestoreBody(await readJsonBody(req));
      const out = await r.start(input, apiLabel);
      if (out.kind === 'dry-run') {
        send(res, 200, `${toJson(out.plan)}\n`);
        return;
      }
      const body = withLinks(out.job);
      res.setHeader('location', body.links.self);
      send(res, 202, `${toJson(body)}\n`);
    },
    async get(_req, res, url, params) {
      parseQuery(url.searchParams, []);
      const view = await require().get(params.id ?? '');
      send(res, 200, `${toJson(withLinks(view))}\n`);
    },
  };
}
