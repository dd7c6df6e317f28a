/** The argument parsers live in util (the restore options share them); re-exported here. */
export { parseBigIntArg, parseGenerationArg, parseTimeArg } from '../util/args.js';
