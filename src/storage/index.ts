import type { StorageConfig } from '../config/schema.js';
import { ArchiveError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log/index.js';
import { LocalObjectStore } from './local.js';
import { S3ObjectStore } from './s3.js';
import type { ObjectStore } from './types.js';

export { LocalObjectStore } from './local.js';
export type { LocalObjectStoreOptions } from './local.js';
export { S3ObjectStore } from './s3.js';
export { MemoryObjectStore } from './memory.js';
export type { S3ChecksumMode, S3ObjectStoreOptions } from './s3.js';
export {
  validateKey,
  validatePrefix,
  validateMetadata,
  compareKeys,
  isStoreOutage,
} from './types.js';
export type {
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
  ObjectHead,
  ListedObject,
} from './types.js';

/** The configured object store (`storage.type`): the local directory or an S3 bucket. */
export function createObjectStore(config: StorageConfig, log: Logger): ObjectStore {
  const storeLog = log.child({ component: 'storage' });
  if (config.type === 's3') {
    const { bucket, ...s3 } = config.s3;
    if (bucket === undefined) {
      throw new ArchiveError(
        ErrorCodes.CONFIG_INVALID,
        'config error: storage.s3.bucket: missing required key (required when storage.type is s3)',
      );
    }
    const store = new S3ObjectStore({ ...s3, bucket, log: storeLog });
    storeLog.debug({ store: store.description }, 'object store');
    return store;
  }
  const store = new LocalObjectStore({ dir: config.local.dir, log: storeLog });
  storeLog.debug({ store: store.description }, 'object store');
  return store;
}
