// Reads the demo archive in place with DuckDB to show the segments are ordinary Parquet.
import { DuckDBInstance } from '@duckdb/node-api';

const hot = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const sql = `SELECT topic, count(DISTINCT partition) AS partitions, count(*) AS records,
  min("offset") AS min_offset, max("offset") AS max_offset,
  min(to_timestamp("timestamp" / 1000)) AS first_time, max(to_timestamp("timestamp" / 1000)) AS last_time
  FROM read_parquet('${hot}/*/*/*.parquet', hive_partitioning = true) GROUP BY topic ORDER BY topic`;
const reader = await con.runAndReadAll(sql);
console.table(reader.getRowObjectsJson());
