import type { Command } from 'commander';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import { formatBytes } from '../../config/index.js';
import {
  describeRange,
  dryRunView,
  parseRestoreRequest,
  parseRunOptions,
  parseTargetBrokers,
  planTotals,
  type JobState,
  type PartitionPlan,
  type RestoreInput,
  type RestoreOutcome,
  type RestoreProgress,
  type RunOptions,
  type TranslateReport,
  type VerifyReport,
} from '../../restore/index.js';
import { createRestore, type RestoreService } from '../../service/restore.js';
import { makeContext, type CommandContext, type GlobalOptions } from '../context.js';
import { ExitCode } from '../../errors.js';
import { isoTime, table, toJson } from '../format.js';
import { parseTimeArg } from '../time-arg.js';
import { progressView } from '../progress.js';

interface RestoreOptions extends Omit<RestoreInput, 'topic'> {
  progress?: boolean;
  group?: string;
  asOf?: string;
  apply?: boolean;
}

const usage = (message: string) => new ArchiveError(ErrorCodes.USAGE, message);

const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '-');

function planRows(plan: readonly PartitionPlan[]): string[][] {
  return plan.map((p) => [
    `${p.topic}/${p.partition}`,
    p.targetTopic,
    `${p.startOffset}..${p.endOffset - 1n}`,
    String(p.records),
    formatBytes(p.recordBytes),
    String(p.segments),
    String(p.rowGroups),
    `${formatBytes(p.rowGroupBytes)} of ${formatBytes(p.segmentBytes)}`,
    p.tiers.join('+') || '-',
  ]);
}

const PLAN_HEADERS = [
  'partition',
  'target',
  'offsets',
  'records',
  'bytes',
  'segments',
  'row groups',
  'to read',
  'tiers',
];

function printDryRun(
  ctx: CommandContext,
  o: Extract<RestoreOutcome, { kind: 'dry-run' }>,
  opts: RunOptions,
): void {
  const t = o.totals;
  const rateMs = Math.max(
    opts.bytesPerSecond > 0 ? (t.recordBytes / opts.bytesPerSecond) * 1000 : 0,
    opts.recordsPerSecond > 0 ? (t.records / opts.recordsPerSecond) * 1000 : 0,
  );
  if (ctx.json) {
    ctx.out(toJson(dryRunView(o, opts)));
    return;
  }
  ctx.out(
    `dry run of restore job ${o.jobId}${o.existing !== null ? ` (exists: ${o.existing.status}; plan as frozen when it started)` : ''}: nothing is produced`,
  );
  ctx.out(table(PLAN_HEADERS, planRows(o.plan.partitions)));
  ctx.out(
    `total: ${t.records} records, ${formatBytes(t.recordBytes)} in ${t.partitions} partitions; reads ${t.rowGroups} row groups (${formatBytes(t.rowGroupBytes)}) of ${t.segments} segments (${formatBytes(t.segmentBytes)}, ${pct(t.rowGroupBytes, t.segmentBytes)})`,
  );
  if (rateMs > 0) ctx.out(`at the rate limit this takes at least ${(rateMs / 1000).toFixed(1)} s`);
  for (const g of o.plan.gaps)
    ctx.out(
      `gap: ${g.topic}/${g.partition} offsets ${g.from}..${g.to} are not in the archive (needs --allow-gaps)`,
    );
}

function summary(
  state: JobState,
  p: RestoreProgress,
  alreadyDone: boolean,
  before: RestoreProgress | null,
): string {
  const r = state.result;
  const totals = planTotals(state.plan);
  if (alreadyDone)
    return `restore job ${state.id} was already done (${r?.records ?? 0} records); nothing to do`;
  const s = r?.seconds ?? 0;
  const records = p.records - (before?.records ?? 0);
  const bytes = p.recordBytes - (before?.recordBytes ?? 0);
  const earlier =
    before !== null && before.records > 0
      ? `; ${p.records} of ${p.totalRecords} records in all, ${before.records} by earlier runs`
      : '';
  return [
    `restored ${records} records (${formatBytes(bytes)}) of job ${state.id} in ${s.toFixed(1)} s (${s > 0 ? (bytes / 1e6 / s).toFixed(1) : '-'} MB/s, ${r?.transactions ?? 0} transactions) into ${state.targets.map((t) => t.topic).join(', ')}${earlier}`,
    `read ${formatBytes(p.bytesRead)} of ${formatBytes(totals.segmentBytes)} segment bytes (${pct(p.bytesRead, totals.segmentBytes)})`,
  ].join('\n');
}

function printVerify(ctx: CommandContext, v: VerifyReport): void {
  if (ctx.json) {
    ctx.out(toJson(v));
    return;
  }
  ctx.out(
    table(
      [
        'source',
        'target',
        'archive records',
        'target records',
        'archive sha256',
        'target sha256',
        'result',
      ],
      v.pairs.map((p) => [
        `${p.sourceTopic}/${p.sourcePartition}`,
        `${p.targetTopic}/${p.targetPartition}`,
        String(p.archiveRecords),
        String(p.targetRecords),
        p.archiveSha256.slice(0, 16),
        p.targetSha256.slice(0, 16),
        p.match ? 'ok' : 'DIFFERENT',
      ]),
    ),
  );
  for (const m of v.missing)
    ctx.out(
      `missing: ${m.records} archive records of ${m.topic}/${m.partition} are not in the target`,
    );
  for (const u of v.unexpected)
    ctx.out(
      `unexpected: ${u.records} records in ${u.topic}/${u.partition} from offset ${u.firstOffset} were not written by this job`,
    );
  if (v.headerMismatches > 0)
    ctx.out(
      `${v.headerMismatches} records carry original-offset headers that disagree with the offset map`,
    );
  ctx.out(
    `verify ${v.jobId}: ${v.ok ? 'OK' : 'DIFFERENCES FOUND'}: archive ${v.archiveRecords} records, target ${v.targetRecords} records${v.complete ? '' : ' (job not finished: compared what it committed)'} in ${v.seconds.toFixed(1)} s`,
  );
}

async function withService<T>(
  ctx: CommandContext,
  brokers: string[] | undefined,
  fn: (s: RestoreService) => Promise<T>,
): Promise<T> {
  const service = await createRestore(
    ctx.config,
    ctx.log,
    brokers !== undefined ? { targetBrokers: brokers } : {},
  );
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

const EXAMPLES = `
Examples:
  kafka-archive restore ztf_alerts --from 2026-11-01T03:00:00Z --to 2026-11-01T04:00:00Z
  kafka-archive restore ztf_alerts --from 2026-11-01T03:00:00Z --to 2026-11-01T04:00:00Z --dry-run
  kafka-archive restore ztf_alerts --start-offset 0:1200,3:500 --end-offset 0:1300,3:600 --target-topic alerts.replay --verify
  kafka-archive restore 'cluster1\\..*' --from 1761966000000 --topic-map cluster1.job=replay.job,cluster1.sample=replay.sample
  kafka-archive restore orders --target-brokers dr-kafka:9092 --replication-factor 3 --rate 50MiB --concurrency 8
  kafka-archive restore verify --job ztf_alerts-3f9c2a1b7d
  kafka-archive restore status [--job ztf_alerts-3f9c2a1b7d]
  kafka-archive restore translate-offsets --job ztf_alerts-3f9c2a1b7d --group alert-filter --as-of 2026-11-01T04:00:00Z --apply

restore verify --job J   read job J's target back (read_committed) and compare it with the archive:
                         per partition the record count and a SHA-256 over key, value, headers
                         and timestamp in order; exit 3 on any difference
restore status [--job J] the jobs in restore.stateDir (status, records, targets), or one job's plan
restore translate-offsets --job J --group G [--as-of T] [--apply]
                         group G's committed offsets on the job's source topics (live from the
                         source cluster, or with --as-of the archived snapshot at or before T;
                         T may be "now") mapped onto the restored topic: the first restored
                         record at or after each offset; --apply commits them for G on the
                         target (refused while G has active members there)

Run the same command again after a crash (or kill -9): it resumes after the last committed
transaction, and the target holds every record exactly once. Exit codes: 0 done, 1 failure
(target unreachable, not authorized, I/O), 2 usage (bad option, target not empty, too few
partitions), 3 data (no data in the range, a gap in the archive, a record too large for the
target, verification found differences).
`;

export function registerRestore(program: Command, setExit: (code: number) => void): void {
  program
    .command('restore')
    .argument(
      '<topic>',
      'archived topic name, or a regular expression matching whole topic names; or "verify" / "status" / "translate-offsets" (see below)',
    )
    .description(
      'produce archived records back into Kafka, byte-exact (keys, values, headers, timestamps, partitions, order), exactly once across crashes, resumable',
    )
    .option('-p, --partitions <list>', 'only these source partitions, e.g. 0,1,5 or 0-3')
    .option(
      '--generation <n>',
      "that generation of each topic (an incarnation of a re-created topic); default: each topic's newest",
    )
    .option('--from <time>', 'records with timestamp >= this (ISO-8601 or epoch ms)')
    .option('--to <time>', 'records with timestamp < this')
    .option(
      '--start-offset <offsets>',
      'first original offset: N for every partition, or P:O,... per partition',
    )
    .option('--end-offset <offsets>', 'end original offset, exclusive: N or P:O,...')
    .option('--target-topic <topic>', 'target topic (default <topic>.restored)')
    .option('--topic-map <pairs>', 'target per source topic: a=b,c=d')
    .option(
      '--target-brokers <list>',
      'target cluster host:port,... (default restore.target.brokers, else kafka.brokers)',
    )
    .option(
      '--replication-factor <n>',
      'replication factor of a target topic the restore creates (default: the broker default)',
    )
    .option(
      '--repartition <mode>',
      'allow a target with fewer partitions: by-key (murmur2 like the Java client) or round-robin',
    )
    .option('--append', 'allow writing into a target topic that already holds records')
    .option(
      '--offset-header',
      'add kafka-archive.original-topic/-partition/-offset headers to every record',
    )
    .option(
      '--allow-gaps',
      'restore even when the archive misses offsets inside the range (reported)',
    )
    .option(
      '--job <name>',
      'job name (default: derived from the options, so the same command resumes the same job)',
    )
    .option(
      '--dry-run',
      'print per partition what would be restored (records, bytes, segments, row groups, tiers); produce nothing',
    )
    .option(
      '--verify',
      'after restoring, read the target back and compare it with the archive (exit 3 on a difference)',
    )
    .option(
      '--rate <bytes>',
      'at most this many record bytes per second, e.g. 20MiB (default unlimited)',
    )
    .option('--rate-records <n>', 'at most this many records per second')
    .option('--concurrency <n>', 'partitions restored at once (default restore.concurrency)')
    .option(
      '--compression <codec>',
      'none, gzip, snappy, lz4 or zstd (default restore.compression)',
    )
    .option('--batch-bytes <bytes>', 'record bytes per transaction (default restore.batchBytes)')
    .option('--batch-records <n>', 'records per transaction (default restore.batchRecords)')
    .option('--no-progress', 'no progress bar (log lines instead)')
    .option('--group <id>', 'translate-offsets: the consumer group to translate')
    .option(
      '--as-of <time>',
      'translate-offsets: use the archived group position at or before this time (ISO-8601, epoch ms or "now") instead of the live one',
    )
    .option(
      '--apply',
      'translate-offsets: commit the translated offsets for the group on the target',
    )
    .addHelpText('after', EXAMPLES)
    .action(async (topic: string, o: RestoreOptions, command: Command) => {
      const ctx = makeContext(command.optsWithGlobals<GlobalOptions>());
      // `restore verify --job J` and `restore status [--job J]` share the options of `restore`
      // (commander would hand --job to this command before a subcommand saw it).
      if (topic === 'verify') return verifyCommand(ctx, o, setExit);
      if (topic === 'status') return statusCommand(ctx, o, setExit);
      if (topic === 'translate-offsets') return translateCommand(ctx, o, setExit);
      for (const [flag, set] of [
        ['--group', o.group !== undefined],
        ['--as-of', o.asOf !== undefined],
        ['--apply', o.apply === true],
      ] as const)
        if (set) throw usage(`${flag} belongs to restore translate-offsets`);
      const req = parseRestoreRequest({ ...o, topic });
      const brokers = parseTargetBrokers(o);
      await withService(ctx, brokers, async (service) => {
        const opts = parseRunOptions(o, service.defaults());
        ctx.log.debug(
          { range: describeRange({ ...req, targetBrokers: service.targetBrokers }) },
          'restore',
        );
        const view = progressView({
          tty: process.stderr.isTTY === true && o.progress !== false && !ctx.json,
          log: ctx.log,
          intervalMs: ctx.config.restore.progressIntervalMs,
        });
        const abort = new AbortController();
        const onSignal = () => abort.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let last: RestoreProgress | null = null;
        let before: RestoreProgress | null = null;
        let outcome: RestoreOutcome;
        try {
          outcome = await service.run(
            req,
            opts,
            {
              onStart: (i) => {
                if (!ctx.json && !i.resumed)
                  ctx.log.info(
                    { job: i.jobId, ...i.totals },
                    `restore job ${i.jobId}: ${i.totals.records} records in ${i.totals.partitions} partitions`,
                  );
                if (i.resumed)
                  ctx.log.info(
                    { job: i.jobId, done: i.done.records },
                    `resuming restore job ${i.jobId} at ${i.done.records} of ${i.totals.records} records`,
                  );
                last = i.done;
                before = i.done;
                view.update(i.done);
              },
              onProgress: (p) => {
                last = p;
                view.update(p);
              },
            },
            abort.signal,
          );
        } finally {
          view.stop(last);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        if (outcome.kind === 'dry-run') {
          printDryRun(ctx, outcome, opts);
          setExit(outcome.plan.gaps.length > 0 && !opts.allowGaps ? ExitCode.DATA : ExitCode.OK);
          return;
        }
        const verify = o.verify === true ? await service.verify(outcome.jobId) : null;
        if (ctx.json) {
          ctx.out(
            toJson({
              jobId: outcome.jobId,
              status: outcome.state.status,
              resumed: outcome.resumed,
              alreadyDone: outcome.alreadyDone,
              result: outcome.state.result,
              totals: planTotals(outcome.state.plan),
              targets: outcome.state.targets.map((t) => ({
                topic: t.topic,
                partitions: t.partitions,
                created: t.create,
              })),
              gaps: outcome.state.gaps,
              stateDir: service.stateDir,
              verify,
            }),
          );
        } else {
          ctx.out(summary(outcome.state, outcome.progress, outcome.alreadyDone, before));
          ctx.out(
            `job state and offset map: ${service.stateDir}/${outcome.jobId}/ (offset-map.jsonl)`,
          );
          if (verify !== null) printVerify(ctx, verify);
        }
        setExit(verify !== null && !verify.ok ? ExitCode.DATA : ExitCode.OK);
      });
    });
}

async function verifyCommand(
  ctx: CommandContext,
  o: RestoreOptions,
  setExit: (code: number) => void,
): Promise<void> {
  if (o.job === undefined)
    throw usage('restore verify: give --job ID (see kafka-archive restore status)');
  const job = o.job;
  const brokers = parseTargetBrokers(o);
  await withService(ctx, brokers, async (service) => {
    const v = await service.verify(job);
    printVerify(ctx, v);
    setExit(v.ok ? ExitCode.OK : ExitCode.DATA);
  });
}

async function statusCommand(
  ctx: CommandContext,
  o: RestoreOptions,
  setExit: (code: number) => void,
): Promise<void> {
  await withService(ctx, undefined, async (service) => {
    const jobs = o.job !== undefined ? [await service.job(o.job)] : await service.jobs();
    if (ctx.json) ctx.out(toJson(jobs));
    else if (jobs.length === 0) ctx.out(`no restore jobs in ${service.stateDir}`);
    else {
      ctx.out(
        table(
          ['job', 'status', 'source', 'targets', 'records', 'updated', 'error'],
          jobs.map((j) => [
            j.id,
            j.status,
            j.spec.topic,
            j.targets.map((t) => t.topic).join(','),
            `${j.result?.records ?? 0}/${planTotals(j.plan).records}`,
            j.updatedAt,
            j.error?.code ?? '',
          ]),
        ),
      );
      if (o.job !== undefined && jobs[0] !== undefined)
        ctx.out(table(PLAN_HEADERS, planRows(jobs[0].plan)));
    }
    setExit(ExitCode.OK);
  });
}

const KIND_TEXT: Record<TranslateReport['partitions'][number]['kind'], string> = {
  exact: 'same record',
  gap: 'next restored record (offsets in between not restored)',
  before: 'before the restored range: its first record',
  after: 'past the restored range: after its last record',
  empty: 'nothing restored in this partition',
  none: 'no committed offset: not translated',
};

function printTranslate(ctx: CommandContext, r: TranslateReport): void {
  if (ctx.json) {
    ctx.out(toJson(r));
    return;
  }
  const from =
    r.source.kind === 'live'
      ? 'live from the source cluster'
      : `archived snapshot of ${isoTime(BigInt(r.source.snapshotAtMs))} (latest at or before ${isoTime(BigInt(r.source.asOfMs))})`;
  ctx.out(`group ${r.group}, restore job ${r.jobId}: positions ${from}`);
  ctx.out(
    table(
      ['partition', 'source offset', 'target', 'restored offset', 'how'],
      r.partitions.map((p) => [
        `${p.topic}/${p.partition}`,
        p.sourceOffset?.toString() ?? '-',
        `${p.targetTopic}/${p.targetPartition}`,
        p.restoredOffset?.toString() ?? '-',
        KIND_TEXT[p.kind],
      ]),
    ),
  );
  if (r.applied !== null)
    ctx.out(
      `committed for group ${r.group} on the target: ${r.applied.map((a) => `${a.topic}/${a.partition}=${a.offset}`).join(', ')}`,
    );
  else ctx.out('not applied (give --apply to commit these offsets for the group on the target)');
}

function asOfArg(value: string): bigint {
  try {
    return parseTimeArg('--as-of', value);
  } catch (err) {
    if (err instanceof ArchiveError) throw usage(`${err.message}, or now`);
    throw err;
  }
}

async function translateCommand(
  ctx: CommandContext,
  o: RestoreOptions,
  setExit: (code: number) => void,
): Promise<void> {
  if (o.job === undefined)
    throw usage('restore translate-offsets: give --job ID (see kafka-archive restore status)');
  if (o.group === undefined || o.group === '')
    throw usage('restore translate-offsets: give --group ID (the consumer group to translate)');
  const job = o.job;
  const group = o.group;
  const asOfMs =
    o.asOf === undefined ? null : o.asOf === 'now' ? Date.now() : Number(asOfArg(o.asOf));
  const brokers = parseTargetBrokers(o);
  await withService(ctx, brokers, async (service) => {
    const r = await service.translateOffsets(job, { group, asOfMs, apply: o.apply === true });
    printTranslate(ctx, r);
    setExit(ExitCode.OK);
  });
}
