import type { SchemaElement } from 'hyparquet';

/**
 * The archive's Parquet schema (format version 1). DuckDB reads it as `"offset" BIGINT,
 * "timestamp" BIGINT, timestamp_type INTEGER, "key" BLOB, "value" BLOB, headers STRUCT("key"
 * VARCHAR, "value" BLOB)[]`, the types of the segments DuckDB wrote before this encoder, so
 * segments of either writer read alike.
 */
export const SEGMENT_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 6 },
  { name: 'offset', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'timestamp_type', type: 'INT32', repetition_type: 'REQUIRED' },
  { name: 'key', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
  { name: 'value', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
  { name: 'headers', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'value', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
];
