// deploy/prometheus/alerts.yml: the rule-file schema promtool checks (groups, unique alert
// names, expr, for, labels, annotations) and that every kafka_archive_* metric an expression
// names is one src/server/metrics.ts defines. (`promtool check rules` runs too when a promtool
// binary is at .cache/bin-promtool/promtool or on PATH.)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '../..');
const file = join(root, 'deploy/prometheus/alerts.yml');
const metricsSource = readFileSync(join(root, 'src/server/metrics.ts'), 'utf8');

interface Rule {
  alert?: unknown;
  record?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: unknown;
  annotations?: unknown;
}

const doc = parse(readFileSync(file, 'utf8')) as { groups?: unknown };
const groups = doc.groups as Array<{ name?: unknown; rules?: unknown }>;
const rules = groups.flatMap((g) => (Array.isArray(g.rules) ? (g.rules as Rule[]) : []));

const strMap = (x: unknown) =>
  typeof x === 'object' &&
  x !== null &&
  !Array.isArray(x) &&
  Object.values(x).every((v) => typeof v === 'string');

describe('Prometheus alerting rules', () => {
  it('follow the rule-file schema', () => {
    expect(Object.keys(doc)).toEqual(['groups']);
    expect(Array.isArray(groups) && groups.length > 0).toBe(true);
    const names = new Set<string>();
    for (const g of groups) {
      expect(Object.keys(g).sort()).toEqual(['name', 'rules']);
      expect(typeof g.name === 'string' && g.name !== '').toBe(true);
      expect(names.has(g.name as string)).toBe(false);
      names.add(g.name as string);
      expect(Array.isArray(g.rules) && (g.rules as unknown[]).length > 0).toBe(true);
    }
    const alerts = new Set<string>();
    for (const r of rules) {
      for (const k of Object.keys(r))
        expect(['alert', 'expr', 'for', 'labels', 'annotations']).toContain(k);
      expect(typeof r.alert === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(r.alert)).toBe(true);
      expect(alerts.has(r.alert as string)).toBe(false);
      alerts.add(r.alert as string);
      expect(typeof r.expr === 'string' && r.expr.trim() !== '').toBe(true);
      if (r.for !== undefined) expect(r.for).toMatch(/^\d+(ms|s|m|h|d|w|y)$/);
      expect(strMap(r.labels)).toBe(true);
      expect(['warning', 'critical']).toContain((r.labels as Record<string, string>).severity);
      expect(strMap(r.annotations)).toBe(true);
      expect(typeof (r.annotations as Record<string, string>).summary).toBe('string');
      // Template braces balance.
      for (const t of Object.values(r.annotations as Record<string, string>))
        expect(t.split('{{').length).toBe(t.split('}}').length);
    }
  });

  it('cover the fleet and the archive gaps', () => {
    const exprs = rules.map((r) => r.expr as string).join('\n');
    for (const m of [
      'disk_fleet_days_to_flood',
      'disk_fleet_survives_unclean_restart',
      'disk_fleet_reserves_armed',
      'disk_fleet_agent_stale',
      'lost_records_total',
      'diverged_partitions',
    ])
      expect(exprs).toContain(`kafka_archive_${m}`);
  });

  it('name only metrics the service exposes', () => {
    const used = new Set(
      rules.flatMap((r) => [...(r.expr as string).matchAll(/\bkafka_archive_([a-z0-9_]+)/g)]),
    );
    expect(used.size).toBeGreaterThan(0);
    for (const m of used) {
      const name = m[1] as string;
      expect(metricsSource.includes(`'${name}'`), `metric kafka_archive_${name}`).toBe(true);
    }
  });

  const promtool = [join(root, '.cache/bin-promtool/promtool')].find((p) => existsSync(p));
  it.skipIf(promtool === undefined)('pass promtool check rules', () => {
    const out = execFileSync(promtool as string, ['check', 'rules', file], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });
});
