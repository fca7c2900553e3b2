// The symbols of the exchange's configuration (fees are not in
// exchangeInfo, as on Binance), read from `exchange --print-default-config`
// or from a config text.

import { execFileSync } from 'node:child_process';

import { exchangeBinary } from './exchange.mjs';

export function defaultConfigText() {
  return execFileSync(exchangeBinary(), ['--print-default-config'], { encoding: 'utf8' });
}

// -> {BTCUSDT: {symbol, base, quote, makerFee, takerFee, tickSize, stepSize,
//     minQty, minNotional, ...every symbol.<S>.<key> under its own name}}
export function symbolsOf(text = defaultConfigText()) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^symbol\.([A-Z0-9]+)\.([a-z_]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (!m) continue;
    const s = (out[m[1]] ||= { symbol: m[1] });
    s[m[2]] = m[3];
    const camel = m[2].replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    s[camel] = m[3];
  }
  return out;
}
