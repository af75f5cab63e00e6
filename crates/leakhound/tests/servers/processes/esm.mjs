// An ES module with top-level await: the server starts only once its (simulated) config has
// loaded. Every request keeps a ~0.5 KB record in `history`, which is never emptied.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

const config = await sleep(50, { pad: 400 });
const history = [];

http
  .createServer((req, res) => {
    history.push(JSON.stringify({ n: history.length, url: req.url, at: Date.now(), pad: 'x'.repeat(config.pad) }));
    const body = JSON.stringify({ ok: true, n: history.length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  })
  .listen(Number(process.env.PORT || 3000), () => console.log(`listening on ${process.env.PORT}`));
