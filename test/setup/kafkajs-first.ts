// Loaded before every integration test file: installs kafkajs' header-order wrapper before any
// test code loads kafkajs (see src/kafka/kafkajs/ordered-headers.ts).
import { installOrderedHeaders } from '../../src/kafka/kafkajs/ordered-headers.js';

installOrderedHeaders();
