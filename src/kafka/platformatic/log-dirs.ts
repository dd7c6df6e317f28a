import {
  kGetApi,
  kGetConnection,
  protocolErrorsCodesById,
  type Admin as PltAdmin,
  type API,
  type Broker,
  type Connection,
} from '@platformatic/kafka';
import { describeError } from '../../errors.js';
import type { BrokerLogDirs } from '../types.js';
import { toArchiveError } from './errors.js';

/**
 * DescribeLogDirs, one request per broker. The client's own admin.describeLogDirs asks every
 * broker at once and fails as a whole when one broker or one log.dir answers with an error (and
 * wants every topic named): here each broker is asked on the admin's connections for all topics
 * (topics: null), and an error is kept on the broker's or the log.dir's entry instead.
 */

export interface WireResult {
  errorCode: number;
  logDir: string;
  topics: Array<{
    name: string;
    partitions: Array<{
      partitionIndex: number;
      partitionSize: bigint;
      offsetLag: bigint;
      isFutureKey: boolean;
    }>;
  }>;
  /** v4+; Kafka sends -1 when it cannot tell. */
  totalBytes?: bigint;
  usableBytes?: bigint;
}

export interface WireResponse {
  errorCode: number;
  results: WireResult[];
}

type DescribeLogDirsApi = API<[topics: null], WireResponse>;

/** The base client's request plumbing, exported by @platformatic/kafka under these symbols. */
interface RequestPlumbing {
  [kGetApi](name: string, cb: (err: Error | null, api?: DescribeLogDirsApi) => void): void;
  [kGetConnection](broker: Broker, cb: (err: Error | null, c?: Connection) => void): void;
}

const errorName = (code: number): string => protocolErrorsCodesById[code] ?? `error ${code}`;

const bytesOrNull = (n: bigint | undefined): number | null =>
  n === undefined || n < 0n ? null : Number(n);

/** The parsed response of a ResponseError (the client parses it fully before throwing). */
function responseOf(err: unknown): WireResponse | null {
  const r = (err as { response?: unknown } | null)?.response;
  return r !== null && typeof r === 'object' && Array.isArray((r as WireResponse).results)
    ? (r as WireResponse)
    : null;
}

function ask(admin: PltAdmin, broker: Broker): Promise<WireResponse> {
  const p = admin as unknown as RequestPlumbing;
  return new Promise((resolve, reject) => {
    p[kGetConnection](broker, (err, connection) => {
      if (err !== null || connection === undefined)
        return reject(err ?? new Error('no connection'));
      p[kGetApi]('DescribeLogDirs', (err2, api) => {
        if (err2 !== null || api === undefined) return reject(err2 ?? new Error('no API'));
        api(connection, null, (err3, res) => {
          if (err3 !== null) {
            // A log.dir error (KAFKA_STORAGE_ERROR) comes as a ResponseError with the response.
            const parsed = responseOf(err3);
            return parsed !== null ? resolve(parsed) : reject(err3);
          }
          if (res === undefined) return reject(new Error('empty DescribeLogDirs response'));
          resolve(res);
        });
      });
    });
  });
}

export function logDirsFromResponse(brokerId: number, res: WireResponse): BrokerLogDirs[] {
  if (res.errorCode !== 0 && res.results.length === 0) {
    return [
      {
        brokerId,
        logDir: '',
        error: errorName(res.errorCode),
        totalBytes: null,
        usableBytes: null,
        partitions: [],
      },
    ];
  }
  return res.results.map((r) => ({
    brokerId,
    logDir: r.logDir,
    error: r.errorCode !== 0 ? errorName(r.errorCode) : null,
    totalBytes: bytesOrNull(r.totalBytes),
    usableBytes: bytesOrNull(r.usableBytes),
    partitions: r.topics
      .flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          sizeBytes: Number(p.partitionSize),
          offsetLag: Number(p.offsetLag),
          isFuture: p.isFutureKey,
        })),
      )
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition)),
  }));
}

export async function describeLogDirs(
  admin: PltAdmin,
  brokerIds?: number[],
): Promise<BrokerLogDirs[]> {
  let brokers: Map<number, Broker>;
  try {
    brokers = (await admin.metadata({ topics: [], forceUpdate: true })).brokers;
  } catch (err) {
    throw toArchiveError(err, 'cannot read the cluster metadata (brokers)');
  }
  const wanted = brokerIds ?? [...brokers.keys()].sort((a, b) => a - b);
  const answers = await Promise.all(
    wanted.map(async (id): Promise<BrokerLogDirs[]> => {
      const broker = brokers.get(id);
      const failed = (error: string): BrokerLogDirs[] => [
        { brokerId: id, logDir: '', error, totalBytes: null, usableBytes: null, partitions: [] },
      ];
      if (broker === undefined) return failed('broker not in the cluster metadata');
      try {
        return logDirsFromResponse(id, await ask(admin, broker));
      } catch (err) {
        return failed(describeError(err));
      }
    }),
  );
  return answers.flat();
}
