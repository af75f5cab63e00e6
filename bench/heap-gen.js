// Builds a realistic heap of about HEAP_MB megabytes (maps of objects, arrays, unique strings,
// closures with contexts, a growing cache) and writes a heap snapshot to OUT.
// Usage: node --max-old-space-size=8192 bench/heap-gen.js HEAP_MB OUT
'use strict';
const v8 = require('v8');
const target = Number(process.argv[2]) * 1024 * 1024;
const out = process.argv[3];

class User { constructor(i) { this.id = i; this.name = `user-${i}`; this.email = `user${i}@example.com`; this.tags = ['a', 'b', String(i % 97)]; this.profile = { age: i % 90, city: `city-${i % 500}` }; } }
class Order { constructor(i, user) { this.id = i; this.user = user; this.items = Array.from({ length: 3 }, (_, k) => ({ sku: `sku-${(i * 7 + k) % 10000}`, qty: k + 1, price: (i % 1000) / 10 })); this.createdAt = new Date(1700000000000 + i * 1000); } }

const users = new Map();
const orders = [];
const handlers = [];
const responseCache = new Map();
const sessions = {};
let i = 0;
while (true) {
  for (let k = 0; k < 5000; k++, i++) {
    const u = new User(i);
    users.set(u.id, u);
    orders.push(new Order(i, u));
    if (i % 4 === 0) {
      const secret = { token: `tok-${i}-${Math.random().toString(36).slice(2)}`, scopes: ['read', 'write'] };
      handlers.push(function onRequest(req) { return secret.token + req; });
    }
    if (i % 3 === 0) {
      const result = { user: u.name, items: [{ name: 'x', rank: i }], generatedAt: i };
      responseCache.set(`${u.name}:session:${i}`, { result, body: JSON.stringify(result), at: i });
    }
    if (i % 10 === 0) sessions[`s${i}`] = { user: u, started: i, buf: Buffer.alloc(64) };
  }
  if (process.memoryUsage().heapUsed >= target) break;
}
globalThis.__bench = { users, orders, handlers, responseCache, sessions };
console.log(`objects: ${i} users, heapUsed ${Math.round(process.memoryUsage().heapUsed / 1048576)} MB`);
v8.writeHeapSnapshot(out);
