#!/usr/bin/env node
import { enableCompileCache } from 'node:module';

// V8's code cache for the product's and its dependencies' modules, kept between runs (Node's
// compile cache: $NODE_COMPILE_CACHE, else node-compile-cache/ in the OS temporary directory;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off). A start with a warm cache compiles none of the
// modules it loaded before again. Enabled before the product is imported, so it covers it.
enableCompileCache();
const { exitWhenFlushed, main } = await import('../dist/cli/main.js');

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
