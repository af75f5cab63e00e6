var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (target = mod != null ? __create(__getProtoOf(mod)) : {}, __copyProps(
  // If the importer is in node compatibility mode or this is not an ESM
  // file that has been converted to a CommonJS file using a Babel-
  // compatible transform (i.e. "__esModule" has not been set), then set
  // "default" to the CommonJS "module.exports" for node compatibility.
  isNodeMode || !mod || !mod.__esModule ? __defProp(target, "default", { value: mod, enumerable: true }) : target,
  mod
));

// src/app.ts
var http = __toESM(require("node:http"));

// src/quotes.ts
var bands = {
  ACME: { low: 90, high: 110 },
  GLOBEX: { low: 40, high: 60 },
  INITECH: { low: 10, high: 15 }
};
var history = /* @__PURE__ */ new Map();
function priceIn(band, seq2) {
  const span = band.high - band.low;
  return band.low + seq2 * 7919 % 1e3 / (1e3 / span);
}
function symbols() {
  return Object.keys(bands);
}
function makeQuote(symbol, seq2) {
  const band = bands[symbol] ?? { low: 1, high: 2 };
  const price = priceIn(band, seq2);
  const quote = {
    id: `${symbol}-${seq2}`,
    symbol,
    price,
    spread: price * 1e-3,
    tags: [symbol.toLowerCase(), `seq-${seq2 % 10}`, "live"],
    note: `quote ${seq2} for ${symbol} `.repeat(8)
  };
  history.set(quote.id, quote);
  return quote;
}

// src/app.ts
var port = Number(process.env.PORT ?? 3e3);
var seq = 0;
var server = http.createServer((req, res) => {
  const all = symbols();
  const symbol = all[seq % all.length];
  seq += 1;
  const quote = makeQuote(symbol, seq);
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ id: quote.id, price: quote.price }));
});
server.listen(port, "127.0.0.1", () => {
  console.log(`quotes listening on ${port}`);
});
//# sourceMappingURL=app.js.map
