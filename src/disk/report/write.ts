import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { toJson } from '../../util/json.js';
import type { DiskReport } from './collect.js';
import { renderDiskReportHtml } from './html.js';

/** Write a file whole or not at all: a temporary file in the same directory, then a rename. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, target);
}

/** The report as HTML and/or JSON files; returns the paths written. */
export async function writeDiskReportFiles(
  report: DiskReport,
  files: { htmlFile?: string; jsonFile?: string },
): Promise<string[]> {
  const written: string[] = [];
  if (files.htmlFile !== undefined) {
    await writeFileAtomic(files.htmlFile, renderDiskReportHtml(report));
    written.push(resolve(files.htmlFile));
  }
  if (files.jsonFile !== undefined) {
    await writeFileAtomic(files.jsonFile, `${toJson(report)}\n`);
    written.push(resolve(files.jsonFile));
  }
  return written;
}
