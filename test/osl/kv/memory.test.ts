/** The in-memory key-value store against the shared contract. */

import { MemoryKeyValueStore } from '../../../src/osl/kv/memory-store.js';
import { runKvContract } from './contract.js';

runKvContract('MemoryKeyValueStore', { open: () => new MemoryKeyValueStore() });
