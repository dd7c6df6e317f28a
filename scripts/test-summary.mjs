// Adds up vitest JSON reports and prints the failed tests (file, name, first line of the error)
// and one closing line: "tests: N passed, N failed, N skipped". The failures are printed last so
// that the tail of a CI log names them.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of process.argv.slice(2)) {
  const name = file.split('/').pop();
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    console.log(`[test] report ${file} missing or unreadable (the run crashed)`);
    failed++;
    continue;
  }
  passed += report.numPassedTests ?? 0;
  failed +=
    (report.numFailedTests ?? 0) +
    (report.success === false && report.numFailedTests === 0 ? 1 : 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(
    `[test] ${name}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`,
  );
  for (const suite of report.testResults ?? []) {
    const path = String(suite.name ?? '').replace(/^.*?(test\/)/, '$1');
    for (const test of suite.assertionResults ?? []) {
      if (test.status !== 'failed') continue;
      const message = String(test.failureMessages?.[0] ?? '')
        .split('\n')[0]
        .slice(0, 300);
      failures.push(`[test] FAILED (${name}) ${path} > ${test.fullName ?? test.title}: ${message}`);
    }
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) {
      failures.push(
        `[test] FAILED (${name}) ${path}: ${String(suite.message ?? '')
          .split('\n')[0]
          .slice(0, 300)}`,
      );
    }
  }
}
for (const line of failures) console.log(line);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
