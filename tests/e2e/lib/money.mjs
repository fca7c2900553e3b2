// Exact decimal arithmetic for balance checks: every amount of the exchange
// is a whole number of 1e-8 units, so amounts are BigInt units here and
// never floats.

export const UNIT = 100000000n;  // units per whole

// "1.5" -> 150000000n; "-0.00000001" -> -1n. Throws on more than 8 decimals.
export function units(s) {
  const str = String(s).trim();
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(str);
  if (!m) throw new Error(`not a decimal: ${s}`);
  const frac = (m[3] || '').replace(/0+$/, '');
  if (frac.length > 8) throw new Error(`more than 8 decimals: ${s}`);
  const v = BigInt(m[2]) * UNIT + BigInt((frac + '00000000').slice(0, 8));
  return m[1] ? -v : v;
}

// 150000000n -> "1.50000000" (the exchange's 8-decimal format).
export function fmt(u) {
  const neg = u < 0n;
  const a = neg ? -u : u;
  return `${neg ? '-' : ''}${a / UNIT}.${(a % UNIT).toString().padStart(8, '0')}`;
}

// The fee the order service takes from `received` units at `rate`
// (a decimal string such as "0.001"): floor(received * rate), per fill
// (order-service/src/partition.cc FeeOf).
export function feeOf(received, rate) {
  return (received * units(rate)) / UNIT;
}

// price * qty in quote units (both decimal strings), exact.
export function notional(price, qty) {
  return (units(price) * units(qty)) / UNIT;
}

// A ledger of expected balances: asset -> units, per user, plus the fees the
// exchange keeps. Deposits add; trades move; sum(users) + fees == deposits.
export class Ledger {
  constructor() {
    this.users = new Map();   // userId -> Map(asset -> units free+locked)
    this.deposits = new Map();
    this.fees = new Map();
  }
  bal(userId, asset) {
    return (this.users.get(userId) && this.users.get(userId).get(asset)) || 0n;
  }
  add(userId, asset, u) {
    if (!this.users.has(userId)) this.users.set(userId, new Map());
    const m = this.users.get(userId);
    m.set(asset, (m.get(asset) || 0n) + u);
  }
  deposit(userId, asset, amount) {
    const u = units(amount);
    this.add(userId, asset, u);
    this.deposits.set(asset, (this.deposits.get(asset) || 0n) + u);
  }
  fee(asset, u) { this.fees.set(asset, (this.fees.get(asset) || 0n) + u); }
  // One fill of `qty` at `price` between buyer and seller on a symbol
  // {base, quote, makerFee, takerFee}. makerSide: 'BUY' or 'SELL'.
  trade(sym, { buyer, seller, price, qty, makerSide }) {
    const base = units(qty);
    const quote = notional(price, qty);
    const buyerFee = feeOf(base, makerSide === 'BUY' ? sym.makerFee : sym.takerFee);
    const sellerFee = feeOf(quote, makerSide === 'SELL' ? sym.makerFee : sym.takerFee);
    this.add(buyer, sym.quote, -quote);
    this.add(buyer, sym.base, base - buyerFee);
    this.add(seller, sym.base, -base);
    this.add(seller, sym.quote, quote - sellerFee);
    this.fee(sym.base, buyerFee);
    this.fee(sym.quote, sellerFee);
    return { buyerFee, sellerFee, quote };
  }
}
