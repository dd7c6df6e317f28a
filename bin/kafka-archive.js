#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    // Exit explicitly: client libraries may keep sockets or timers alive after a command is done.
    // pino flushes its buffered log lines on exit.
    process.exit(code);
  },
  (err) => {
    process.stderr.write(`kafka-archive: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
