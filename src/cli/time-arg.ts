/** The argument parsers live in util (the restore options share them); re-exported here. */
export { parseBigIntArg, parseTimeArg } from '../util/args.js';
