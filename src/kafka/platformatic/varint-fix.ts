import { Writer } from '@platformatic/kafka';

/**
 * @platformatic/kafka 2.12.1 writes signed 64-bit varints (record timestamp deltas) through
 * @platformatic/dynamic-buffer 0.3.1, whose zigzag encoding is `(v << 1n) ^ (v >> 31n)`: the sign
 * is taken from bit 31 instead of bit 63, so a record whose timestamp is 2^31 ms (24.8 days) or
 * more from its batch's first is written with a wrong timestamp, by milliseconds or by years
 * (seen here: 1600000000000 came back as 1600000000023, 999999999999 as 2400000000162). Reading
 * is correct. This replaces Writer#appendVarInt64 with the same method and the right zigzag, only
 * when the installed version is seen to have the bug.
 */
type VarIntWriter = {
  appendVarInt64(value: bigint, append?: boolean): VarIntWriter;
  appendUnsignedVarInt64(value: bigint, append?: boolean): VarIntWriter;
  buffer: Buffer;
};

const zigzag64 = (v: bigint): bigint => BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));

let checked = false;

export function installVarInt64Fix(): void {
  if (checked) return;
  checked = true;
  const probe = -(2n ** 40n);
  const written = (Writer.create() as unknown as VarIntWriter).appendVarInt64(probe).buffer;
  const right = (Writer.create() as unknown as VarIntWriter).appendUnsignedVarInt64(
    zigzag64(probe),
  ).buffer;
  if (written.equals(right)) return; // fixed upstream
  const proto = Writer.prototype as unknown as VarIntWriter;
  proto.appendVarInt64 = function (this: VarIntWriter, value: bigint, append = true) {
    return this.appendUnsignedVarInt64(zigzag64(value), append);
  };
}
