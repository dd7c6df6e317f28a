/**
 * The OpenAPI 3.1 document of the HTTP API, served at /openapi.json. Kept beside the routes it
 * describes; test/unit/openapi.test.ts validates every response the server tests get against
 * it, and schemathesis fuzzes a running server with it (scripts/fuzz-api.sh).
 */

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({
  description,
  content: json(ref('Error')),
});
const unauthorized = {
  description:
    'no bearer token, or not a valid one (code AUTH_REQUIRED or AUTH_INVALID_TOKEN); only when server.auth has tokens',
  headers: {
    'WWW-Authenticate': {
      description: 'Bearer realm="kafka-archive" (error="invalid_token" for a bad token)',
      schema: { type: 'string' },
    },
  },
  content: json(ref('Error')),
};
const readErrors = {
  '400': errorResponse('bad parameters: missing, unknown, repeated, malformed (USAGE)'),
  '401': unauthorized,
  '404': errorResponse(
    'nothing there: no such archived topic, partition, offset or time (ARCHIVE_*)',
  ),
  '500': errorResponse('a defect or an archive inconsistency; the service log has the details'),
  '503': errorResponse(
    'try later: another process writes the catalog, the object store is unreachable, too many reads',
  ),
};
const decimal = {
  type: 'string',
  pattern: '^-?[0-9]+$',
  description: 'a 64-bit integer as a decimal string',
};
const time = {
  type: 'string',
  description: 'an ISO-8601 time (2026-11-01T03:00:00Z) or milliseconds since the epoch',
  pattern:
    '^(-?[0-9]{1,15}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,3})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)$',
  examples: ['2026-11-01T03:00:00Z', '1761966000000'],
};
const q = (
  name: string,
  description: string,
  required: boolean,
  schema: object = { type: 'string' },
) => ({
  name,
  in: 'query',
  required,
  description,
  schema,
});
const topic = (description: string) =>
  q('topic', description, true, { type: 'string', minLength: 1, maxLength: 1024 });
const bearer = [{ bearer: [] }, {}];

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'kafka-archive',
      version: '1',
      description:
        'The HTTP API of `kafka-archive run`: health, readiness, Prometheus metrics, queries over the live catalog, the disk report, and tiering on demand. When server.auth has tokens, every endpoint but /healthz, /readyz and /openapi.json needs `Authorization: Bearer <token>`: a read token for GET endpoints, an admin token for POST /api/tier. Errors are JSON `{"error", "code"}` with a code from the error-code table.',
    },
    servers: [{ url: 'http://127.0.0.1:9464' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'server.auth.readTokens / adminTokens',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'code'],
          additionalProperties: false,
          properties: {
            error: { type: 'string', minLength: 1, description: 'what went wrong, for people' },
            code: {
              type: 'string',
              pattern: '^[A-Z][A-Z0-9_]+$',
              description: 'README "Error codes"',
            },
          },
        },
        Readiness: {
          type: 'object',
          required: ['status', 'topics', 'assignedPartitions', 'pausedPartitions'],
          properties: {
            status: { enum: ['ready', 'not ready'] },
            reason: { type: 'string' },
            topics: { type: 'integer', minimum: 0 },
            assignedPartitions: { type: 'integer', minimum: 0 },
            pausedPartitions: { type: 'integer', minimum: 0 },
          },
        },
        Tiers: { type: 'array', items: { enum: ['hot', 'cold'] } },
        OffsetRange: {
          type: 'object',
          required: ['from', 'to'],
          additionalProperties: false,
          properties: { from: decimal, to: decimal },
        },
        PartitionOffsets: {
          type: 'object',
          additionalProperties: false,
          required: [
            'topic',
            'partition',
            'segments',
            'records',
            'overlappingRecords',
            'bytes',
            'firstOffset',
            'lastOffset',
            'minTimestamp',
            'maxTimestamp',
            'ranges',
            'gaps',
            'tiers',
          ],
          properties: {
            topic: { type: 'string' },
            partition: { type: 'integer', minimum: 0 },
            segments: { type: 'integer', minimum: 0 },
            records: { type: 'integer', minimum: 0 },
            overlappingRecords: { type: 'integer', minimum: 0 },
            bytes: { type: 'integer', minimum: 0 },
            firstOffset: decimal,
            lastOffset: decimal,
            minTimestamp: decimal,
            maxTimestamp: decimal,
            ranges: { type: 'array', items: ref('OffsetRange') },
            gaps: { type: 'array', items: ref('OffsetRange') },
            tiers: ref('Tiers'),
          },
        },
        TimeLookup: {
          type: 'object',
          additionalProperties: false,
          required: [
            'topic',
            'partition',
            'offset',
            'timestamp',
            'segment',
            'tiers',
            'latestTimestamp',
          ],
          properties: {
            topic: { type: 'string' },
            partition: { type: 'integer', minimum: 0 },
            offset: { oneOf: [decimal, { type: 'null' }] },
            timestamp: { oneOf: [decimal, { type: 'null' }] },
            segment: { type: ['string', 'null'] },
            tiers: ref('Tiers'),
            latestTimestamp: decimal,
          },
        },
        Record: {
          type: 'object',
          description: 'one NDJSON line of /api/read (the lines `kafka-archive read` prints)',
          additionalProperties: false,
          required: [
            'topic',
            'partition',
            'offset',
            'timestamp',
            'timestampType',
            'key',
            'value',
            'headers',
          ],
          properties: {
            topic: { type: 'string' },
            partition: { type: 'integer', minimum: 0 },
            offset: decimal,
            timestamp: decimal,
            timestampType: { enum: ['CreateTime', 'LogAppendTime'] },
            key: { type: ['string', 'null'] },
            keyEncoding: { const: 'base64' },
            value: { type: ['string', 'null'] },
            valueEncoding: { const: 'base64' },
            headers: {
              type: 'array',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['key', 'value'],
                properties: {
                  key: { type: 'string' },
                  value: { type: ['string', 'null'] },
                  valueEncoding: { const: 'base64' },
                },
              },
            },
          },
        },
        TierRound: {
          type: 'object',
          additionalProperties: false,
          required: [
            'uploaded',
            'adopted',
            'evicted',
            'bytes',
            'evictedBytes',
            'conflicts',
            'seconds',
          ],
          properties: {
            uploaded: { type: 'integer', minimum: 0 },
            adopted: { type: 'integer', minimum: 0 },
            evicted: { type: 'integer', minimum: 0 },
            bytes: { type: 'integer', minimum: 0 },
            evictedBytes: { type: 'integer', minimum: 0 },
            conflicts: { type: 'array', items: { type: 'string' } },
            seconds: { type: 'number', minimum: 0 },
          },
        },
        DiskReport: {
          type: 'object',
          description: 'the JSON of `kafka-archive disk report --json` (README "Disk safety")',
          required: ['generatedAt', 'volumes'],
          properties: {
            generatedAt: { type: 'string' },
            volumes: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
    paths: {
      '/healthz': {
        get: {
          summary: 'liveness: the process serves requests',
          operationId: 'healthz',
          security: [],
          responses: {
            '200': {
              description: 'alive',
              content: json({
                type: 'object',
                required: ['status'],
                additionalProperties: false,
                properties: { status: { const: 'ok' } },
              }),
            },
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'readiness: the archiver consumes its topics',
          operationId: 'readyz',
          security: [],
          responses: {
            '200': { description: 'ready', content: json(ref('Readiness')) },
            '503': { description: 'not ready, with the reason', content: json(ref('Readiness')) },
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'this document',
          operationId: 'openapi',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (open when server.auth.openMetrics is true)',
          operationId: 'metrics',
          security: bearer,
          responses: {
            '200': {
              description: 'Prometheus text exposition format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            '401': unauthorized,
          },
        },
      },
      '/disk/report': {
        get: {
          summary: 'the latest disk report as an HTML page with charts',
          operationId: 'diskReportHtml',
          security: bearer,
          responses: {
            '200': {
              description: 'a self-contained HTML page',
              content: { 'text/html': { schema: { type: 'string' } } },
            },
            '401': unauthorized,
            '503': errorResponse('no disk report yet (DISK_REPORT_UNAVAILABLE)'),
          },
        },
      },
      '/api/disk/report': {
        get: {
          summary: 'the latest disk report as JSON',
          operationId: 'diskReport',
          security: bearer,
          responses: {
            '200': { description: 'the report', content: json(ref('DiskReport')) },
            '401': unauthorized,
            '503': errorResponse('no disk report yet (DISK_REPORT_UNAVAILABLE)'),
          },
        },
      },
      '/api/offsets': {
        get: {
          summary: 'archived ranges per partition (as `kafka-archive offsets T --json`)',
          operationId: 'offsets',
          security: bearer,
          parameters: [topic('a topic name or a whole-name regular expression')],
          responses: {
            '200': {
              description: 'one row per partition',
              content: json({ type: 'array', items: ref('PartitionOffsets') }),
            },
            ...readErrors,
          },
        },
      },
      '/api/lookup': {
        get: {
          summary: 'per partition the first archived offset at or after a time',
          operationId: 'lookup',
          security: bearer,
          parameters: [topic('an archived topic name'), q('time', 'the time', true, time)],
          responses: {
            '200': {
              description: 'one row per partition',
              content: json({ type: 'array', items: ref('TimeLookup') }),
            },
            ...readErrors,
          },
        },
      },
      '/api/read': {
        get: {
          summary: 'archived records as NDJSON (at most 10,000 per request)',
          operationId: 'read',
          security: bearer,
          description:
            'Give `offset` or `from` (or both). A response cut off mid-stream (an object store outage) ends without its final chunk.',
          parameters: [
            topic('an archived topic name'),
            q('partition', 'the partition', true, {
              type: 'string',
              pattern: '^[0-9]+$',
              examples: ['0'],
            }),
            q('offset', 'the first offset', false, {
              type: 'string',
              pattern: '^[0-9]+$',
              examples: ['0'],
            }),
            q('count', 'records at most, 1 to 10000 (default 10000)', false, {
              type: 'string',
              pattern: '^[0-9]+$',
              examples: ['5'],
            }),
            q('from', 'records with timestamp >= from', false, time),
            q('to', 'records with timestamp < to', false, time),
          ],
          responses: {
            '200': {
              description: 'one JSON record per line',
              content: { 'application/x-ndjson': { schema: ref('Record') } },
            },
            ...readErrors,
          },
        },
      },
      '/api/tier': {
        post: {
          summary:
            'tier now: upload, verify, evict (as `kafka-archive tier`); needs an admin token',
          operationId: 'tier',
          security: bearer,
          parameters: [
            q('topic', 'only this topic (name or whole-name regular expression)', false, {
              type: 'string',
              minLength: 1,
              maxLength: 1024,
            }),
            q(
              'olderThan',
              'segments whose newest record is older than this, e.g. 0, 30m, 7d (default tiering.minAgeMs)',
              false,
              {
                type: 'string',
                pattern: '^[0-9]{1,12}(\\.[0-9]{1,3})?(ms|s|m|h|d)?$',
                examples: ['0', '30m'],
              },
            ),
          ],
          responses: {
            '200': { description: 'what the round did', content: json(ref('TierRound')) },
            '400': errorResponse('bad parameters (USAGE)'),
            '401': unauthorized,
            '403': errorResponse('a read token; this needs an admin token (AUTH_FORBIDDEN)'),
            '500': errorResponse('a defect; the service log has the details'),
            '503': errorResponse('tiering is off here, or the object store is unreachable'),
          },
        },
      },
    },
  };
}
