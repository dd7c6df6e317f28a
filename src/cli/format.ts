/** Terminal output helpers (the --json form is the machine interface). */
export { table } from '../util/table.js';
export { isoTime, toJson } from '../util/json.js';
