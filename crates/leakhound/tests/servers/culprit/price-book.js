// The pricing module of price-server.js: a class whose method keeps a record of every price
// it quotes in a field that is never trimmed.
'use strict';

class PriceBook {
  constructor(base) {
    this.base = base;
    this.history = [];
  }

  price(sku, qty) {
    const unit = this.base[sku % this.base.length];
    const quote = { sku, qty, unit, total: unit * qty, at: Date.now(), ref: `q-${sku}-${qty}-${Math.random()}` };
    this.history.push(quote);
    return quote;
  }
}

module.exports = { PriceBook };
