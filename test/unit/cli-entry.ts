// Runs the CLI from source the way bin/kafka-archive.js runs the build (used by cli.test.ts).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
process.exit(process.exitCode);
