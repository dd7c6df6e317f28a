export type * from './types.js';
export { createKafkajsClient } from './kafkajs/client.js';
