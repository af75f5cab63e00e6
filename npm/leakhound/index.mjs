// ESM entry: the same functions as the CommonJS index.js.
import api from './index.js';

export const { run, load, gc, alloc, heap, compare, LeakhoundError, binaryPath, toArgs } = api;
export default api;
