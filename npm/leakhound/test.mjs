// ESM entry of `leakhound/test`.
import api from './test.js';

export const { assertNoLeak, expectNoLeak, describe, culpritLines } = api;
export default api;
