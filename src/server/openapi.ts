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

const int0 = { type: 'integer', minimum: 0 };
const num0 = { type: 'number', minimum: 0 };
/** `generation`: a re-created topic's generation (default the newest); `all` where allowed. */
const generationParam = (all: boolean) =>
  q(
    'generation',
    `the topic's generation (1 = its first incarnation); default the newest${all ? '; `all` for every one' : ''}`,
    false,
    {
      type: 'string',
      pattern: all ? '^([1-9][0-9]{0,8}|all)$' : '^[1-9][0-9]{0,8}$',
      examples: ['1'],
    },
  );
const wholeOrText = (description: string) => ({
  description,
  oneOf: [int0, { type: 'string', minLength: 1, maxLength: 1024 }],
});
const adminErrors = {
  '401': unauthorized,
  '403': errorResponse('a read token; this needs an admin token (AUTH_FORBIDDEN)'),
  '500': errorResponse('a defect; the service log has the details'),
};
const jobId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'the job id (`id` of POST /api/restores, or `kafka-archive restore status`)',
  schema: { type: 'string', minLength: 1, maxLength: 200, examples: ['orders-3f9c2a1b7d'] },
};
const restoreSchemas = {
  RestoreRequest: {
    type: 'object',
    description:
      'the options of `kafka-archive restore`, as JSON (README "Restore"); the same request is the same job, so posting it again resumes a job that was stopped',
    additionalProperties: false,
    required: ['topic'],
    properties: {
      topic: {
        type: 'string',
        minLength: 1,
        maxLength: 1024,
        description: 'an archived topic name, or a regular expression matching whole topic names',
      },
      generation: wholeOrText(
        "the topic's generation (an incarnation of a re-created topic); default: each topic's newest",
      ),
      partitions: {
        description: 'only these source partitions: [0, 1, 5], or "0-3,7"',
        oneOf: [
          { type: 'array', minItems: 1, items: int0 },
          { type: 'string', minLength: 1, maxLength: 1024 },
        ],
      },
      from: { description: 'records with timestamp >= from', oneOf: [int0, time] },
      to: { description: 'records with timestamp < to', oneOf: [int0, time] },
      startOffset: {
        description:
          'first original offset: one for every partition, or per partition {"0": 100, "3": "250"} (or "0:100,3:250")',
        oneOf: [
          int0,
          { type: 'string', minLength: 1, maxLength: 1024 },
          {
            type: 'object',
            minProperties: 1,
            propertyNames: { pattern: '^[0-9]+$' },
            additionalProperties: { oneOf: [int0, decimal] },
          },
        ],
      },
      endOffset: {
        description: 'end original offset, exclusive: as startOffset',
        oneOf: [
          int0,
          { type: 'string', minLength: 1, maxLength: 1024 },
          {
            type: 'object',
            minProperties: 1,
            propertyNames: { pattern: '^[0-9]+$' },
            additionalProperties: { oneOf: [int0, decimal] },
          },
        ],
      },
      targetTopic: {
        type: 'string',
        minLength: 1,
        maxLength: 249,
        description: 'target topic (default <topic>.restored)',
      },
      topicMap: {
        description: 'target per source topic: {"a": "b"} (or "a=b,c=d")',
        oneOf: [
          {
            type: 'object',
            minProperties: 1,
            additionalProperties: { type: 'string', minLength: 1, maxLength: 249 },
          },
          { type: 'string', minLength: 1, maxLength: 1024 },
        ],
      },
      replicationFactor: wholeOrText('replication factor of a target topic the restore creates'),
      repartition: { enum: ['by-key', 'round-robin'] },
      append: { type: 'boolean', description: 'allow a target topic that holds records' },
      offsetHeader: { type: 'boolean', description: 'add original topic/partition/offset headers' },
      allowGaps: { type: 'boolean', description: 'restore although the archive misses offsets' },
      job: {
        type: 'string',
        pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$',
        description: 'job name (default: derived from the request)',
      },
      dryRun: { type: 'boolean', description: 'answer the plan (200); produce nothing' },
      verify: {
        type: 'boolean',
        description: 'after restoring, compare the target with the archive',
      },
      rate: {
        description: 'record bytes per second at most, e.g. "20MiB" (0: unlimited)',
        oneOf: [num0, { type: 'string', minLength: 1, maxLength: 1024 }],
      },
      rateRecords: {
        description: 'records per second at most',
        oneOf: [num0, { type: 'string', minLength: 1, maxLength: 1024 }],
      },
      concurrency: wholeOrText('partitions restored at once (default restore.concurrency)'),
      compression: { enum: ['none', 'gzip', 'snappy', 'lz4', 'zstd'] },
      batchBytes: {
        description: 'record bytes per transaction (default restore.batchBytes)',
        oneOf: [num0, { type: 'string', minLength: 1, maxLength: 1024 }],
      },
      batchRecords: wholeOrText('records per transaction (default restore.batchRecords)'),
    },
  },
  RestoreProgress: {
    type: 'object',
    additionalProperties: false,
    required: [
      'records',
      'recordBytes',
      'totalRecords',
      'totalRecordBytes',
      'transactions',
      'partitionsDone',
      'partitions',
      'bytesRead',
      'recordsPerSecond',
      'bytesPerSecond',
      'etaSeconds',
    ],
    properties: {
      records: int0,
      recordBytes: int0,
      totalRecords: int0,
      totalRecordBytes: int0,
      transactions: int0,
      partitionsDone: int0,
      partitions: int0,
      bytesRead: int0,
      recordsPerSecond: num0,
      bytesPerSecond: num0,
      etaSeconds: { oneOf: [num0, { type: 'null' }] },
    },
  },
  RestorePartition: {
    type: 'object',
    additionalProperties: false,
    required: [
      'topic',
      'partition',
      'targetTopic',
      'startOffset',
      'endOffset',
      'records',
      'recordBytes',
      'totalRecords',
      'totalRecordBytes',
      'done',
    ],
    properties: {
      topic: { type: 'string' },
      partition: int0,
      targetTopic: { type: 'string' },
      startOffset: decimal,
      endOffset: decimal,
      records: int0,
      recordBytes: int0,
      totalRecords: int0,
      totalRecordBytes: int0,
      done: { type: 'boolean' },
    },
  },
  Gap: {
    type: 'object',
    additionalProperties: false,
    required: ['topic', 'partition', 'from', 'to'],
    properties: { topic: { type: 'string' }, partition: int0, from: decimal, to: decimal },
  },
  VerifyReport: {
    type: 'object',
    description: 'as `kafka-archive restore verify --json`',
    required: [
      'jobId',
      'ok',
      'complete',
      'pairs',
      'missing',
      'unexpected',
      'archiveRecords',
      'targetRecords',
    ],
    properties: {
      jobId: { type: 'string' },
      ok: { type: 'boolean' },
      complete: { type: 'boolean' },
      pairs: { type: 'array', items: { type: 'object' } },
      missing: { type: 'array', items: { type: 'object' } },
      unexpected: { type: 'array', items: { type: 'object' } },
      headerMismatches: int0,
      archiveRecords: int0,
      targetRecords: int0,
      seconds: num0,
    },
  },
  RestoreJob: {
    type: 'object',
    additionalProperties: false,
    required: [
      'id',
      'state',
      'live',
      'spec',
      'createdAt',
      'updatedAt',
      'progress',
      'partitions',
      'targets',
      'gaps',
      'error',
      'resumable',
      'verify',
      'links',
    ],
    properties: {
      id: { type: 'string' },
      state: {
        enum: ['planning', 'running', 'verifying', 'done', 'failed'],
        description:
          'planning: before the plan is saved; failed: see error (resumable: post the same request again)',
      },
      live: { type: 'boolean', description: 'run by this service now' },
      spec: { type: 'object', description: "the job's identity: its request in canonical form" },
      createdAt: { type: ['string', 'null'] },
      updatedAt: { type: ['string', 'null'] },
      progress: ref('RestoreProgress'),
      partitions: { type: 'array', items: ref('RestorePartition') },
      targets: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['topic', 'partitions', 'created'],
          properties: { topic: { type: 'string' }, partitions: int0, created: { type: 'boolean' } },
        },
      },
      gaps: { type: 'array', items: ref('Gap') },
      error: {
        oneOf: [
          { type: 'null' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]+$' },
              message: { type: 'string' },
            },
          },
        ],
      },
      resumable: { type: 'boolean' },
      verify: { oneOf: [{ type: 'null' }, ref('VerifyReport')] },
      links: {
        type: 'object',
        additionalProperties: false,
        required: ['self'],
        properties: { self: { type: 'string' } },
      },
    },
  },
  RestorePlan: {
    type: 'object',
    description: 'a dry run (as `kafka-archive restore --dry-run --json`)',
    additionalProperties: false,
    required: [
      'jobId',
      'dryRun',
      'totals',
      'partitions',
      'gaps',
      'estimatedSecondsAtRate',
      'existingJob',
    ],
    properties: {
      jobId: { type: 'string' },
      dryRun: { const: true },
      totals: { type: 'object' },
      partitions: { type: 'array', items: { type: 'object' } },
      gaps: { type: 'array', items: ref('Gap') },
      estimatedSecondsAtRate: { oneOf: [num0, { type: 'null' }] },
      existingJob: { oneOf: [{ enum: ['running', 'done', 'failed'] }, { type: 'null' }] },
    },
  },
};
const restorePaths = {
  '/api/restores': {
    get: {
      summary:
        'restore jobs: those in restore.stateDir and those this service runs; needs an admin token',
      operationId: 'listRestores',
      security: bearer,
      responses: {
        '200': {
          description: 'every job',
          content: json({ type: 'array', items: ref('RestoreJob') }),
        },
        '400': errorResponse('unknown query parameters (USAGE)'),
        ...adminErrors,
      },
    },
    post: {
      summary:
        'start a restore job in the service (as `kafka-archive restore`); needs an admin token',
      operationId: 'startRestore',
      security: bearer,
      description:
        'Validates the request, then answers 202 and runs the job in the background: poll `links.self`. A dry run answers 200 with the plan. Posting the request of a stopped or failed job resumes it after its last committed transaction; of a done job, it ends at once.',
      requestBody: { required: true, content: json(ref('RestoreRequest')) },
      responses: {
        '200': { description: 'the plan of a dry run', content: json(ref('RestorePlan')) },
        '202': {
          description: 'started; poll links.self (also the Location header)',
          headers: { Location: { description: 'the job', schema: { type: 'string' } } },
          content: json(ref('RestoreJob')),
        },
        '400': errorResponse('a bad request body: the message names the field (USAGE)'),
        '404': errorResponse('dry run: nothing archived in the range (RESTORE_NO_DATA, ARCHIVE_*)'),
        '409': errorResponse(
          'the job runs already (RESTORE_JOB_LOCKED), or its job name holds another request (RESTORE_JOB_CONFLICT)',
        ),
        '503': errorResponse('the service is stopping, or the object store is unreachable'),
        ...adminErrors,
      },
    },
  },
  '/api/restores/{id}': {
    get: {
      summary: 'one restore job: state, progress per partition, rate, ETA, error, verify report',
      operationId: 'getRestore',
      security: bearer,
      parameters: [jobId],
      responses: {
        '200': { description: 'the job', content: json(ref('RestoreJob')) },
        '400': errorResponse('unknown query parameters (USAGE)'),
        '404': errorResponse('no such job (RESTORE_JOB_UNKNOWN)'),
        ...adminErrors,
      },
    },
  },
};

const reserveFile = {
  type: 'object',
  required: ['n', 'path', 'present', 'apparentBytes', 'allocatedBytes', 'armed'],
  properties: {
    n: { type: 'integer', minimum: 1 },
    path: { type: 'string' },
    present: { type: 'boolean' },
    apparentBytes: int0,
    allocatedBytes: int0,
    armed: { type: 'boolean', description: 'present and its allocated blocks cover its size' },
  },
};
const rebuildProgress = {
  type: 'object',
  required: ['phase', 'listed', 'read', 'indexed', 'seconds', 'footersPerSecond'],
  properties: {
    phase: {
      enum: ['hot', 'objects', 'merge'],
      description:
        'hot: footers of the hot tier; objects: listing and footers of the bucket; merge: applying to the live catalog',
    },
    listed: { ...int0, description: 'segment objects listed so far' },
    read: {
      ...int0,
      description:
        'segments read so far (hot files and objects: footers, and entries of segment indexes)',
    },
    indexed: {
      ...int0,
      description: "of those, objects taken from their partition's segment index (no footer read)",
    },
    seconds: num0,
    footersPerSecond: { ...num0, description: 'segments read per second' },
  },
};
const adminSchemas = {
  RebuildResult: {
    type: 'object',
    required: [
      'catalogDir',
      'segments',
      'read',
      'cold',
      'indexed',
      'quarantined',
      'seconds',
      'segmentsPerSecond',
      'via',
    ],
    properties: {
      catalogDir: { type: 'string' },
      segments: { ...int0, description: 'entries in the catalog afterwards' },
      read: {
        ...int0,
        description: 'segments read (hot files plus objects: footers and segment-index entries)',
      },
      cold: { ...int0, description: 'of those, objects of the store' },
      indexed: {
        ...int0,
        description:
          "of those, objects taken from their partition's segment index (no footer read)",
      },
      quarantined: { type: 'array', items: { type: 'string' } },
      seconds: num0,
      segmentsPerSecond: num0,
      via: { enum: ['local', 'service'] },
      merge: {
        type: 'object',
        description: 'what changed in the live catalog (service only)',
        required: ['added', 'updated', 'dropped', 'keptNewer'],
        properties: {
          added: int0,
          updated: int0,
          dropped: {
            ...int0,
            description: 'entries whose segment is neither on the hot tier nor in the bucket',
          },
          keptNewer: {
            ...int0,
            description: "entries the service's writers changed during the rebuild: theirs kept",
          },
        },
      },
    },
  },
  RebuildJob: {
    type: 'object',
    required: [
      'id',
      'state',
      'startedAt',
      'finishedAt',
      'concurrency',
      'progress',
      'result',
      'error',
      'links',
    ],
    properties: {
      id: { type: 'string', minLength: 1 },
      state: { enum: ['running', 'done', 'failed'] },
      startedAt: { type: 'string' },
      finishedAt: { oneOf: [{ type: 'string' }, { type: 'null' }] },
      concurrency: { type: 'integer', minimum: 1 },
      progress: rebuildProgress,
      result: { oneOf: [ref('RebuildResult'), { type: 'null' }] },
      error: { oneOf: [ref('Error'), { type: 'null' }] },
      links: {
        type: 'object',
        required: ['self'],
        properties: { self: { type: 'string' } },
      },
    },
  },
  ReserveRelease: {
    type: 'object',
    required: [
      'volume',
      'count',
      'path',
      'n',
      'freedBytes',
      'availableBeforeBytes',
      'availableAfterBytes',
      'remainingArmed',
    ],
    properties: {
      volume: { type: 'string' },
      count: { ...int0, description: 'reserves configured on the volume' },
      path: { type: 'string' },
      n: { type: 'integer', minimum: 1 },
      freedBytes: int0,
      availableBeforeBytes: int0,
      availableAfterBytes: int0,
      remainingArmed: int0,
    },
  },
  ReserveRearm: {
    type: 'object',
    required: ['volume', 'minAvailableBytes', 'dir', 'armed', 'refused', 'status'],
    properties: {
      volume: { type: 'string' },
      minAvailableBytes: int0,
      dir: { type: 'string' },
      armed: {
        type: 'array',
        items: {
          type: 'object',
          required: ['n', 'path', 'method'],
          properties: {
            n: { type: 'integer', minimum: 1 },
            path: { type: 'string' },
            method: { enum: ['fallocate', 'write'] },
          },
        },
      },
      refused: {
        type: 'array',
        items: {
          type: 'object',
          required: ['n', 'reason', 'availableBytes', 'minAvailableBytes'],
          properties: {
            n: { type: 'integer', minimum: 1 },
            reason: { type: 'string' },
            availableBytes: int0,
            minAvailableBytes: int0,
          },
        },
      },
      status: {
        type: 'object',
        required: ['dir', 'count', 'sizeBytes', 'armed', 'armedBytes', 'files', 'extra', 'partial'],
        properties: {
          dir: { type: 'string' },
          count: int0,
          sizeBytes: int0,
          armed: int0,
          armedBytes: int0,
          files: { type: 'array', items: reserveFile },
          extra: { type: 'array', items: reserveFile },
          partial: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};
const volumeParam = (what: string) =>
  q('volume', `the volume (see \`disk volumes\`); ${what}`, false, {
    type: 'string',
    minLength: 1,
    maxLength: 200,
    examples: ['hot'],
  });
const adminPaths = {
  '/api/catalog/rebuild': {
    post: {
      summary:
        'rebuild the live catalog from the hot tier and the bucket (as `kafka-archive catalog rebuild`), beside the running writers; needs an admin token',
      operationId: 'rebuildCatalog',
      security: bearer,
      description:
        'Answers 202 and runs the rebuild in the background: poll `links.self` (also the Location header). Entries the service writes while it runs are kept; every other entry becomes what the scan found.',
      parameters: [
        q('concurrency', 'footers read at once, 1 to 1024 (default 16)', false, {
          type: 'string',
          pattern: '^[0-9]{1,4}$',
          examples: ['16'],
        }),
        q(
          'footers',
          "true: read every object's footer, ignoring the partitions' segment indexes (default false)",
          false,
          { enum: ['true', 'false'] },
        ),
      ],
      responses: {
        '202': {
          description: 'started; poll links.self',
          headers: { Location: { description: 'the job', schema: { type: 'string' } } },
          content: json(ref('RebuildJob')),
        },
        '400': errorResponse('bad parameters (USAGE)'),
        '409': errorResponse('a rebuild runs already (CATALOG_REBUILD_RUNNING)'),
        '503': errorResponse('another process writes the catalog (CATALOG_LOCKED)'),
        ...adminErrors,
      },
    },
  },
  '/api/catalog/rebuild/{id}': {
    get: {
      summary: 'one catalog rebuild job: state, progress (phase, footers read, rate), result',
      operationId: 'getCatalogRebuild',
      security: bearer,
      parameters: [{ ...jobId, description: 'the job id (`id` of POST /api/catalog/rebuild)' }],
      responses: {
        '200': { description: 'the job', content: json(ref('RebuildJob')) },
        '400': errorResponse('unknown query parameters (USAGE)'),
        '404': errorResponse('no such job in this service (NOT_FOUND)'),
        ...adminErrors,
      },
    },
  },
  '/api/reserve/release': {
    post: {
      summary:
        'release one reserve block (as `kafka-archive reserve release`) through the disk monitor, which then leaves that volume unarmed until a rearm; needs an admin token',
      operationId: 'releaseReserve',
      security: bearer,
      parameters: [volumeParam('default: the only volume with reserves')],
      responses: {
        '200': { description: 'what was released', content: json(ref('ReserveRelease')) },
        '400': errorResponse('unknown volume, or several volumes have reserves (USAGE)'),
        '409': errorResponse('no armed reserve left to release (RESERVE_NONE_ARMED)'),
        ...adminErrors,
      },
    },
  },
  '/api/reserve/rearm': {
    post: {
      summary:
        'allocate missing reserves that fit above the flood watermark (as `kafka-archive reserve rearm`), and let the disk monitor re-arm the volume again; needs an admin token',
      operationId: 'rearmReserves',
      security: bearer,
      parameters: [volumeParam('default: every volume with reserves')],
      responses: {
        '200': {
          description: 'per volume: newly armed and refused reserves',
          content: json({ type: 'array', items: ref('ReserveRearm') }),
        },
        '400': errorResponse('unknown volume (USAGE)'),
        ...adminErrors,
      },
    },
  },
};

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'kafka-archive',
      version: '1',
      description:
        'The HTTP API of `kafka-archive run`: health, readiness, Prometheus metrics, queries over the live catalog, the disk report, and tiering on demand. When server.auth has tokens, every endpoint but /healthz, /readyz and /openapi.json needs `Authorization: Bearer <token>`: a read token for GET endpoints, an admin token for POST /api/tier, the restore jobs (/api/restores), catalog rebuilds (/api/catalog/rebuild) and reserves (/api/reserve/release, /api/reserve/rearm). Errors are JSON `{"error", "code"}` with a code from the error-code table.',
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
            'generation',
            'generations',
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
            generation: { type: 'integer', minimum: 1 },
            generations: { type: 'array', items: { type: 'integer', minimum: 1 } },
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
            'generation',
            'partition',
            'offset',
            'timestamp',
            'segment',
            'tiers',
            'latestTimestamp',
          ],
          properties: {
            topic: { type: 'string' },
            generation: { type: 'integer', minimum: 1 },
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
            duplicates: {
              type: 'integer',
              minimum: 0,
              description: 'hot segments dropped: the bucket already held their records',
            },
            trimmed: {
              type: 'integer',
              minimum: 0,
              description:
                'hot segments the bucket held in part: replaced by trimmed segments of the rest',
            },
            deferred: {
              type: 'integer',
              minimum: 0,
              description:
                'segments of partitions another member owns, kept until the bucket covers them or they are committed',
            },
            seconds: { type: 'number', minimum: 0 },
          },
        },
        ...restoreSchemas,
        ...adminSchemas,
        FleetReport: {
          type: 'object',
          description:
            'the JSON of `kafka-archive disk report --fleet --json` (README "Disk fleet")',
          required: ['generatedAt', 'topic', 'staleAfterMs', 'entries', 'malformed', 'series'],
          additionalProperties: false,
          properties: {
            generatedAt: { type: 'integer', description: 'ms since the epoch' },
            topic: { type: 'string' },
            staleAfterMs: { type: 'integer' },
            malformed: { type: 'integer', minimum: 0 },
            series: {
              type: 'object',
              description:
                'per key "broker|logDir": [at ms, used bytes, used %] samples, oldest first',
              additionalProperties: {
                type: 'array',
                items: { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3 },
              },
            },
            entries: { type: 'array', items: ref('FleetEntry') },
          },
        },
        FleetEntry: {
          type: 'object',
          required: [
            'brokerId',
            'logDir',
            'source',
            'host',
            'stale',
            'lastSeen',
            'sizeBytes',
            'usedBytes',
            'availableBytes',
            'usedPercent',
            'state',
            'growthBytesPerDay',
            'daysToHigh',
            'daysToFlood',
            'reserves',
            'survivesUncleanRestart',
            'needsBytes',
            'hasBytes',
            'estimate',
          ],
          additionalProperties: false,
          properties: {
            brokerId: { type: 'integer', minimum: 0 },
            logDir: { type: 'string' },
            source: { enum: ['agent', 'describe-log-dirs'] },
            host: { type: ['string', 'null'] },
            stale: { type: 'boolean' },
            lastSeen: { type: ['integer', 'null'] },
            sizeBytes: { type: ['integer', 'null'] },
            usedBytes: { type: 'integer' },
            availableBytes: { type: ['integer', 'null'] },
            usedPercent: { type: ['number', 'null'] },
            state: { enum: ['ok', 'low', 'high', 'flood', 'unknown'] },
            growthBytesPerDay: { type: ['number', 'null'] },
            daysToHigh: { type: ['number', 'null'] },
            daysToFlood: { type: ['number', 'null'] },
            reserves: {
              oneOf: [
                { type: 'null' },
                {
                  type: 'object',
                  required: ['armed', 'total', 'bytes'],
                  additionalProperties: false,
                  properties: {
                    armed: { type: 'integer' },
                    total: { type: 'integer' },
                    bytes: { type: 'integer' },
                  },
                },
              ],
            },
            survivesUncleanRestart: { type: ['boolean', 'null'] },
            needsBytes: { type: ['integer', 'null'] },
            hasBytes: { type: ['integer', 'null'] },
            estimate: { type: 'boolean' },
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
      '/api/disk/fleet': {
        get: {
          summary:
            'the disk fleet: per broker and log.dir the usage, growth, days to high / flood, reserves and unclean-restart verdict, from the disk agents (disk.fleet.enabled)',
          operationId: 'diskFleet',
          security: bearer,
          responses: {
            '200': { description: 'the fleet report', content: json(ref('FleetReport')) },
            '401': unauthorized,
            '404': errorResponse(
              'the fleet is off here: disk.fleet.enabled is false (DISK_FLEET_OFF)',
            ),
            '503': errorResponse('the fleet topic not read yet (DISK_REPORT_UNAVAILABLE)'),
          },
        },
      },
      '/api/offsets': {
        get: {
          summary: 'archived ranges per partition (as `kafka-archive offsets T --json`)',
          operationId: 'offsets',
          security: bearer,
          parameters: [
            topic('a topic name or a whole-name regular expression'),
            generationParam(true),
          ],
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
          parameters: [
            topic('an archived topic name'),
            q('time', 'the time', true, time),
            generationParam(false),
          ],
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
            generationParam(false),
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
      ...restorePaths,
      ...adminPaths,
    },
  };
}
