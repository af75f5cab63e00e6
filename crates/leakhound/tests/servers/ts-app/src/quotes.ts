// A quote service written in TypeScript. The leak: every quote is remembered in `history`,
// keyed by a request id that never repeats, and nothing ever removes it.

export interface Quote {
  id: string;
  symbol: string;
  price: number;
  spread: number;
  tags: string[];
  note: string;
}

interface PriceBand {
  low: number;
  high: number;
}

const bands: Record<string, PriceBand> = {
  ACME: { low: 90, high: 110 },
  GLOBEX: { low: 40, high: 60 },
  INITECH: { low: 10, high: 15 },
};

const history = new Map<string, Quote>();

function priceIn(band: PriceBand, seq: number): number {
  const span = band.high - band.low;
  return band.low + ((seq * 7919) % 1000) / (1000 / span);
}

export function symbols(): string[] {
  return Object.keys(bands);
}

export function makeQuote(symbol: string, seq: number): Quote {
  const band: PriceBand = bands[symbol] ?? { low: 1, high: 2 };
  const price: number = priceIn(band, seq);
  const quote: Quote = {
    id: `${symbol}-${seq}`,
    symbol,
    price,
    spread: price * 0.001,
    tags: [symbol.toLowerCase(), `seq-${seq % 10}`, 'live'],
    note: `quote ${seq} for ${symbol} `.repeat(8),
  };
  history.set(quote.id, quote);
  return quote;
}

export function historySize(): number {
  return history.size;
}
