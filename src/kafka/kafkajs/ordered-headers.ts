import { createRequire } from 'node:module';
import type * as KafkaJS from 'kafkajs';
import { ArchiveError, ErrorCodes } from '../../errors.js';
import { clampRequestQueueTimer } from './request-queue.js';

/**
 * kafkajs 2.2.4 decodes record headers into an object, which loses the order of different keys
 * (integer-like keys are reordered by JavaScript) and the interleaving of duplicate keys
 * (a, b, a becomes a: [1, 3], b: 2); its encoder only accepts that object. Byte fidelity
 * (brief, invariant 3) needs headers exactly as they were. This module wraps kafkajs' record
 * decoder and encoder, before kafkajs is first loaded, so that:
 *  - every decoded message also carries `orderedHeaders`: the header list in wire order;
 *  - the encoder accepts an array of { key, value } pairs and writes it in that order.
 * kafkajs' own code does all the parsing; only the header list is kept. The version is pinned
 * and checked, since the wrapped modules are internal to kafkajs.
 */
const SUPPORTED_KAFKAJS = '2.2.4';

const require = createRequire(import.meta.url);

interface WireHeader {
  key: string;
  value: Buffer | null;
}
interface RecordDecoderModule {
  (
    decoder: { readVarIntArray: (reader: unknown) => unknown[] },
    ctx?: unknown,
  ): Record<string, unknown>;
  __orderedHeaders?: true;
}
type RecordEncoderArgs = {
  offsetDelta?: number;
  timestampDelta?: number | string | bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers?: unknown;
};
interface RecordEncoderModule {
  (args: RecordEncoderArgs): unknown;
  __orderedHeaders?: true;
}
interface EncoderStatic {
  new (): EncoderInstance;
  sizeOfVarInt(n: number): number;
  sizeOfVarLong(n: unknown): number;
  sizeOfVarIntBytes(b: Buffer | null): number;
}
interface EncoderInstance {
  writeVarInt(n: number): EncoderInstance;
  writeInt8(n: number): EncoderInstance;
  writeVarLong(n: unknown): EncoderInstance;
  writeVarIntBytes(b: Buffer | null): EncoderInstance;
  writeVarIntArray(items: unknown[]): EncoderInstance;
}

let installed = false;

function replaceModule(path: string, exportsValue: unknown): void {
  const cached = require.cache[path];
  if (cached === undefined) throw new Error(`kafkajs module ${path} not loaded`);
  cached.exports = exportsValue;
}

export function installOrderedHeaders(): void {
  if (installed) return;
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (version !== SUPPORTED_KAFKAJS) {
    throw new ArchiveError(
      ErrorCodes.KAFKA_CLIENT_UNSUPPORTED,
      `kafkajs ${version} is installed but the header-order wrapper supports ${SUPPORTED_KAFKAJS} only; install the pinned version`,
    );
  }
  const decoderPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
  const loaded = require.cache[decoderPath]?.exports as RecordDecoderModule | undefined;
  if (loaded?.__orderedHeaders === true) {
    installed = true; // installed earlier through another copy of this module
    return;
  }
  const batchDecoderPath = require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder.js');
  if (require.cache[batchDecoderPath] !== undefined) {
    throw new ArchiveError(
      ErrorCodes.INTERNAL,
      'kafkajs was loaded before the header-order wrapper was installed',
    );
  }
  const encoderPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
  const originalDecode = require(decoderPath) as RecordDecoderModule;
  const originalEncode = require(encoderPath) as RecordEncoderModule;
  const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderStatic;
  const Header = require('kafkajs/src/protocol/recordBatch/header/v0/index.js') as (
    h: WireHeader,
  ) => unknown;

  // kafkajs builds a fresh decoder for each record and reads exactly one varint array (the
  // headers) from it, so the first varint array read is the header list.
  const decode: RecordDecoderModule = (decoder, ctx) => {
    let list: unknown[] | undefined;
    const readVarIntArray = decoder.readVarIntArray;
    decoder.readVarIntArray = (reader: unknown) => {
      const out = readVarIntArray.call(decoder, reader);
      list ??= out;
      return out;
    };
    const record = originalDecode(decoder, ctx);
    record.orderedHeaders = list ?? [];
    return record;
  };
  decode.__orderedHeaders = true;

  const encode: RecordEncoderModule = (args) => {
    if (!Array.isArray(args.headers)) return originalEncode(args);
    const headers = args.headers as WireHeader[];
    const offsetDelta = args.offsetDelta ?? 0;
    const timestampDelta = args.timestampDelta ?? 0;
    let headersSize = Encoder.sizeOfVarInt(headers.length);
    for (const h of headers) {
      const keySize = Buffer.byteLength(h.key);
      headersSize += Encoder.sizeOfVarInt(keySize) + keySize;
      headersSize +=
        h.value === null
          ? Encoder.sizeOfVarInt(-1)
          : Encoder.sizeOfVarInt(h.value.length) + h.value.length;
    }
    const sizeOfBody =
      1 +
      Encoder.sizeOfVarLong(timestampDelta) +
      Encoder.sizeOfVarInt(offsetDelta) +
      Encoder.sizeOfVarIntBytes(args.key) +
      Encoder.sizeOfVarIntBytes(args.value) +
      headersSize;
    return new Encoder()
      .writeVarInt(sizeOfBody)
      .writeInt8(0)
      .writeVarLong(timestampDelta)
      .writeVarInt(offsetDelta)
      .writeVarIntBytes(args.key)
      .writeVarIntBytes(args.value)
      .writeVarIntArray(headers.map(Header));
  };
  encode.__orderedHeaders = true;

  replaceModule(decoderPath, decode);
  replaceModule(encoderPath, encode);
  installed = true;
}

/** Load kafkajs with the header-order wrapper (and the timer clamp) in place. */
export function loadKafkajs(): typeof KafkaJS {
  installOrderedHeaders();
  clampRequestQueueTimer();
  return require('kafkajs') as typeof KafkaJS;
}
