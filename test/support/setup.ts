// Runs in every test file: Vitest's workers do not reliably emit `exit`, so temporary folders
// are removed when each file's tests are done.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp.js';

afterAll(removeTempDirs);
