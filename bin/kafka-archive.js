#!/usr/bin/env node
import { exitWhenFlushed, main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => {
    // Exit explicitly (client libraries may keep sockets or timers alive after a command is
    // done), but only once stdout and stderr are flushed; pino flushes its lines on exit.
    exitWhenFlushed(code);
  },
  (err) => {
    process.stderr.write(`kafka-archive: internal error: ${err && err.stack ? err.stack : err}\n`);
    exitWhenFlushed(1);
  },
);
