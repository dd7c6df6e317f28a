/** JSON and time forms shared by the CLI and the HTTP API. */

export function isoTime(ms: bigint): string {
  const n = Number(ms);
  return Number.isFinite(n) && Math.abs(n) < 8.64e15 ? new Date(n).toISOString() : ms.toString();
}

/** JSON with bigint values written as strings (offsets can exceed 2^53). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
