import { promisify } from 'node:util';
import { zstdCompress, zstdDecompress } from 'node:zlib';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy';
import type * as KafkaJS from 'kafkajs';

/**
 * Compression codecs kafkajs does not ship (it has gzip only): LZ4 (frame format, as Kafka
 * writes it) and Snappy (raw or in the xerial framing the Java client writes), both native with
 * prebuilt binaries that run off the event loop; and zstd through the runtime's own zlib
 * (Node >= 24, libzstd in the thread pool, off the event loop) for reading and producing.
 */

const zstdEncode = promisify(zstdCompress);
const zstdDecode = promisify(zstdDecompress);

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

async function snappyDecode(buf: Buffer): Promise<Buffer> {
  if (buf.length < 16 || !buf.subarray(0, 8).equals(XERIAL_MAGIC)) {
    return (await snappyUncompress(buf)) as Buffer;
  }
  const parts: Buffer[] = [];
  let pos = 16; // magic, version, compatible version
  while (pos + 4 <= buf.length) {
    const len = buf.readInt32BE(pos);
    pos += 4;
    parts.push((await snappyUncompress(buf.subarray(pos, pos + len))) as Buffer);
    pos += len;
  }
  return Buffer.concat(parts);
}

async function snappyEncode(buf: Buffer): Promise<Buffer> {
  const header = Buffer.alloc(16);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const block = await snappyCompress(buf);
  const len = Buffer.alloc(4);
  len.writeInt32BE(block.length, 0);
  return Buffer.concat([header, len, block]);
}

type Codec = () => {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};

export function registerCodecs(kafkajs: typeof KafkaJS): void {
  const codecs = kafkajs.CompressionCodecs as unknown as Record<number, Codec>;
  codecs[kafkajs.CompressionTypes.LZ4] = () => ({
    compress: (encoder) => compressFrame(encoder.buffer),
    decompress: (buffer) => decompressFrame(buffer),
  });
  codecs[kafkajs.CompressionTypes.ZSTD] = () => ({
    compress: (encoder) => zstdEncode(encoder.buffer),
    decompress: (buffer) => zstdDecode(buffer),
  });
  codecs[kafkajs.CompressionTypes.Snappy] = () => ({
    compress: (encoder) => snappyEncode(encoder.buffer),
    decompress: (buffer) => snappyDecode(buffer),
  });
}
