// Compiled (never run) by npm/typecheck.sh: the package's hand-written index.d.ts and the
// generated types/*.d.ts must type-check together, and the examples in the docs must compile.
import { run, load, gc, alloc, heap, compare, LeakhoundError } from '../leakhound/index';
import type { RunResult, Verdict } from '../leakhound/index';
import { assertNoLeak, expectNoLeak, describe } from '../leakhound/test';

async function main(): Promise<void> {
  const r: RunResult = await run({
    command: ['node', 'server.js'],
    path: '/api/data',
    method: 'POST',
    headers: ['Content-Type: application/json'],
    body: '{"userId":"u{{seq}}"}',
    maxDuration: '20s',
    heapMb: 128,
  });
  const v: Verdict = r.verdict;
  const code: number = r.exitCode;
  const perRequest: number = r.retained_bytes_per_request;
  const first: string | undefined = r.suspects?.[0]?.title;
  const site: string | undefined = r.alloc_survivors?.[0]?.location;
  assertNoLeak(r);
  expectNoLeak(r);
  const text: string = describe(r);
  const l = await load({ url: 'http://127.0.0.1:3000/', duration: '5s', connections: 4 });
  const g = await gc('gc.log', { heapLimit: '4GB' });
  const a = await alloc('x.heapprofile', { top: 5 });
  const s = await heap.summary('a.heapsnapshot', { top: 10 });
  const d = await heap.diff('a.heapsnapshot', 'b.heapsnapshot');
  const k = await heap.leaks('a.heapsnapshot', 'b.heapsnapshot', 'c.heapsnapshot');
  const c = await compare('before.json', 'after.json');
  const schemas: string[] = [l.schema, g.schema, a.schema, s.schema, d.schema, k.schema, c.schema];
  try {
    await run({ command: ['node', 'crash.js'] });
  } catch (e) {
    if (e instanceof LeakhoundError) {
      const failed: number | null = e.exitCode;
      console.log(failed, e.message, e.result);
    }
  }
  console.log(v, code, perRequest, first, site, text, schemas);
}

void main;
