// The HTTP front of the quote service: GET /quote?symbol=ACME.
import * as http from 'node:http';
import { makeQuote, symbols } from './quotes';

const port: number = Number(process.env.PORT ?? 3000);
let seq = 0;

const server = http.createServer((req: http.IncomingMessage, res: http.ServerResponse) => {
  const all = symbols();
  const symbol: string = all[seq % all.length];
  seq += 1;
  const quote = makeQuote(symbol, seq);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: quote.id, price: quote.price }));
});

server.listen(port, '127.0.0.1', () => {
  console.log(`quotes listening on ${port}`);
});
