// Crash and restart: concurrent trading from several async loops (raw
// signed requests: LIMIT GTC/IOC crossing both ways, MARKET, cancels,
// cancelReplace, admin credits), SIGKILL in the middle of it while requests
// are in flight, restart on the same data directory, and check what the
// restart guarantees (tools/exchange/core.h "Restart"):
//   - every acknowledged order exists (GET /api/v3/order) with executedQty
//     >= the acknowledged one; one acknowledged in a final state
//     (FILLED/CANCELED/EXPIRED) stays exactly so; an open one progressed
//     legitimately (status matches executedQty, its trades sum to it);
//   - every acknowledged fill is in myTrades, unchanged;
//   - every acknowledged credit is kept;
//   - per user, free + locked == deposits + what myTrades moved, and per
//     asset sum(free + locked) + sum(commissions) == deposits (1e-8 units);
//   - every trade has one buyer and one seller side; no id is given twice;
//   - locked == what the open orders hold, depth == everyone's open orders;
//     after DELETE openOrders on every symbol nothing is locked, books empty;
//   - a fresh cross between two users fills and moves exactly its amounts.
// Three kill/restart rounds with different kill timings, then SIGTERM ->
// exit 0 with an order resting. A `todo` test reports what does not hold
// yet: a restart after that SIGTERM, and market data history after a crash.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { symbolsOf } from './lib/config.mjs';
import { startExchange } from './lib/exchange.mjs';

// This test floods orders from four users to kill the process mid-trading;
// the rate limiter (tools/exchange/README.md) would answer most of them 429,
// so its limits are off here.
const NO_RATE_LIMITS = {
  XC_RATE_LIMIT_REQUEST_WEIGHT_PER_MIN: '0', XC_RATE_LIMIT_ORDERS_PER_10S: '0',
  XC_RATE_LIMIT_ORDERS_PER_DAY: '0', XC_RATE_LIMIT_ORDERS_PER_SEC: '0',
  XC_RATE_LIMIT_READS_PER_SEC: '0',
};
import { httpRequest, signedRequest } from './lib/http.mjs';
import { fmt, feeOf, notional, units } from './lib/money.mjs';
import { sleep } from './lib/util.mjs';

const SYMS = symbolsOf();
const TRADED = {
  BTCUSDT: { mid: 40000, qtyStep: '0.001', qtyMax: 20 },  // 0.001 .. 0.02 BTC
  ETHUSDT: { mid: 2500, qtyStep: '0.01', qtyMax: 20 },    // 0.01 .. 0.2 ETH
};
const DEPOSITS = { BTC: '10', ETH: '100', USDT: '1000000' };
const CREDIT = '100.12345678';  // USDT, credited during trading
const KILL_AFTER_MS = [1500, 2300, 3000];
const LOOPS_PER_USER = 2;
const FINAL = new Set(['FILLED', 'CANCELED', 'EXPIRED', 'EXPIRED_IN_MATCH', 'REJECTED']);
// Refusals a random order flow runs into; anything else is a finding.
const EXPECTED_CODES = new Set([-2010, -2011, -2013, -2021, -2022, -1013]);

// Every exchange of the file (the first one's temp dir holds the crash
// test's data dir); all are killed if still running and removed at the end.
const started = [];
let after1 = null;  // {dataDir, users} once the first test stopped cleanly
after(async () => {
  for (const e of started) if (!e.exit) await e.kill().catch(() => {});
  for (const e of started) e.cleanup();
});

const rnd = (n) => Math.floor(Math.random() * n);
const pick = (xs) => xs[rnd(xs.length)];

// What the clients were told (acknowledged answers), over all rounds.
const acked = {
  orders: new Map(),    // "SYM:id" -> {user, symbol, orderId, status, executedQty (units), origQty}
  fills: new Map(),     // "SYM:tradeId:orderId" -> {user, symbol, orderId, price, qty, commission, commissionAsset}
  tradeSides: new Map(),  // "SYM:tradeId" -> Map(orderId -> {price, qty}): at most the trade's two orders
  cancels: new Map(),   // "SYM:id" -> executedQty (units) of the CANCELED answer
  deposits: new Map(),  // userId -> Map(asset -> units)
};
const unexpected = [];  // [what, detail]

function addDeposit(userId, asset, amount) {
  if (!acked.deposits.has(userId)) acked.deposits.set(userId, new Map());
  const m = acked.deposits.get(userId);
  m.set(asset, (m.get(asset) || 0n) + units(amount));
}

function recordOrder(user, o) {
  const key = `${o.symbol}:${o.orderId}`;
  const prev = acked.orders.get(key);
  // An id is never given twice (a restart must not reuse one).
  if (prev && (prev.user !== user || prev.origQty !== units(o.origQty))) {
    unexpected.push(['order id reused', `${key}: ${JSON.stringify({ ...prev, executedQty: fmt(prev.executedQty), origQty: fmt(prev.origQty) })} then ${JSON.stringify(o)}`]);
  }
  const rec = { user, symbol: o.symbol, orderId: o.orderId, status: o.status,
    executedQty: units(o.executedQty), origQty: units(o.origQty) };
  // Answers of one order can arrive out of order (a fill answer after a
  // later GET); keep the most advanced.
  if (!prev || rec.executedQty >= prev.executedQty) acked.orders.set(key, rec);
  for (const f of o.fills || []) {
    // A trade id is the symbol's, as on Binance: the taker's and the maker's
    // fill of one trade share it, at one price and quantity. A third order
    // under the same id, or another price or quantity, is an id given twice.
    const id = `${o.symbol}:${f.tradeId}`;
    const sides = acked.tradeSides.get(id) || new Map();
    if (!sides.has(o.orderId) && sides.size === 2) {
      unexpected.push(['trade id reused', `${id} of orders ${[...sides.keys()].join(', ')} and ${o.orderId}`]);
    }
    for (const [other, g] of sides) {
      if (other !== o.orderId && (g.price !== units(f.price) || g.qty !== units(f.qty))) {
        unexpected.push(['trade id reused', `${id}: order ${other} ${fmt(g.qty)} at ${fmt(g.price)}, order ${o.orderId} ${f.qty} at ${f.price}`]);
      }
    }
    sides.set(o.orderId, { price: units(f.price), qty: units(f.qty) });
    acked.tradeSides.set(id, sides);
    acked.fills.set(`${id}:${o.orderId}`, { user, symbol: o.symbol, orderId: o.orderId,
      price: units(f.price), qty: units(f.qty), commission: units(f.commission), commissionAsset: f.commissionAsset });
  }
}

function recordCancel(user, c) {
  if (c.status !== 'CANCELED') {
    unexpected.push(['cancel answer not CANCELED', JSON.stringify(c)]);
    return;
  }
  const key = `${c.symbol}:${c.orderId}`;
  acked.cancels.set(key, units(c.executedQty));
  const prev = acked.orders.get(key);
  if (prev) acked.orders.set(key, { ...prev, status: 'CANCELED', executedQty: units(c.executedQty) });
}

// One trading round against `ex` until `stopAt` (the kill). Loops stop at
// their first failed request once the kill was sent.
async function tradeUntilKill(ex, users, killAfterMs) {
  let killed = false;
  const open = new Map(users.map((u) => [u.userId, new Map()]));  // userId -> key -> {symbol, orderId}
  let pendingCredit = null;
  const stats = { orders: 0, cancels: 0, replaces: 0, credits: 0, refused: {}, maxMs: 0 };

  const req = async (user, method, path, params) => {
    const t = Date.now();
    try {
      const r = await signedRequest(ex.baseURL, user, method, path, params);
      stats.maxMs = Math.max(stats.maxMs, Date.now() - t);
      return r;
    } catch (e) {
      if (!killed) unexpected.push([`${method} ${path} network error before the kill`, String(e)]);
      return null;
    }
  };
  const refused = (what, r) => {
    if (r.status === 400 && r.json && EXPECTED_CODES.has(r.json.code)) {
      stats.refused[r.json.code] = (stats.refused[r.json.code] || 0) + 1;
      return;
    }
    if (r.status === 409 && r.json && r.json.code === -2021) return;
    unexpected.push([what, `HTTP ${r.status} ${r.text}`]);
  };
  const trackOpen = (user, o) => {
    const key = `${o.symbol}:${o.orderId}`;
    if (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') open.get(user.userId).set(key, { symbol: o.symbol, orderId: o.orderId });
    else open.get(user.userId).delete(key);
  };

  const orderParams = (symbol) => {
    const t = TRADED[symbol];
    const side = pick(['BUY', 'SELL']);
    const qty = fmt(units(t.qtyStep) * BigInt(1 + rnd(t.qtyMax)));
    // Buyers bid up to 2 above mid, sellers ask down to 2 below: crosses.
    const off = side === 'BUY' ? rnd(6) - 3 : rnd(6) - 2;
    const price = String(t.mid + off);
    return { side, qty, price };
  };

  const loop = async (user) => {
    while (!killed) {
      const symbol = pick(Object.keys(TRADED));
      const mine = [...open.get(user.userId).values()].filter((o) => o.symbol === symbol);
      const a = Math.random();
      if (a < 0.55 || mine.length === 0) {
        const { side, qty, price } = orderParams(symbol);
        const kind = a < 0.35 ? 'GTC' : a < 0.45 ? 'IOC' : a < 0.55 ? 'MARKET' : 'GTC';
        const p = kind === 'MARKET'
          ? { symbol, side, type: 'MARKET', quantity: qty, newOrderRespType: 'FULL' }
          : { symbol, side, type: 'LIMIT', timeInForce: kind, quantity: qty, price, newOrderRespType: 'FULL' };
        const r = await req(user, 'POST', '/api/v3/order', p);
        if (!r) break;
        if (r.status === 200) {
          stats.orders++;
          recordOrder(user.userId, r.json);
          trackOpen(user, r.json);
          // Answers wait for the engine: IOC and MARKET are final.
          if (kind !== 'GTC' && !FINAL.has(r.json.status)) unexpected.push([`${kind} answered not final`, r.text]);
        } else refused(`POST order ${JSON.stringify(p)}`, r);
      } else if (a < 0.8) {
        const o = pick(mine);
        const r = await req(user, 'DELETE', '/api/v3/order', { symbol, orderId: o.orderId });
        if (!r) break;
        open.get(user.userId).delete(`${symbol}:${o.orderId}`);
        if (r.status === 200) { stats.cancels++; recordCancel(user.userId, r.json); } else refused('DELETE order', r);
      } else {
        const o = pick(mine);
        const { side, qty, price } = orderParams(symbol);
        const p = { symbol, side, type: 'LIMIT', timeInForce: 'GTC', quantity: qty, price,
          cancelReplaceMode: pick(['STOP_ON_FAILURE', 'ALLOW_FAILURE']), cancelOrderId: o.orderId,
          newOrderRespType: 'FULL' };
        const r = await req(user, 'POST', '/api/v3/order/cancelReplace', p);
        if (!r) break;
        open.get(user.userId).delete(`${symbol}:${o.orderId}`);
        const d = r.status === 200 ? r.json : r.json && r.json.data;
        if (r.status === 200) stats.replaces++; else refused('cancelReplace', r);
        if (d && d.cancelResult === 'SUCCESS') recordCancel(user.userId, d.cancelResponse);
        if (d && d.newOrderResult === 'SUCCESS') {
          recordOrder(user.userId, d.newOrderResponse);
          trackOpen(user, d.newOrderResponse);
        }
      }
    }
  };

  const creditLoop = async () => {
    let i = 0;
    while (!killed) {
      const u = users[i++ % users.length];
      pendingCredit = { userId: u.userId, amount: CREDIT };
      try {
        await ex.credit(u.userId, 'USDT', CREDIT);
      } catch (e) {
        if (!killed) unexpected.push(['credit before the kill', String(e)]);
        break;
      }
      addDeposit(u.userId, 'USDT', CREDIT);
      pendingCredit = null;
      stats.credits++;
      await sleep(30);
    }
  };

  const loops = [creditLoop()];
  for (const u of users) for (let i = 0; i < LOOPS_PER_USER; i++) loops.push(loop(u));
  await sleep(killAfterMs);
  killed = true;
  const exit = await ex.kill();
  assert.equal(exit.signal, 'SIGKILL');
  await Promise.all(loops);
  return { pendingCredit, stats };
}

// Pages through a list endpoint keyed by an increasing id.
// Every row of a paged history. Each next page starts at the last row's id,
// not after it: a user's two sides of a self-trade share one trade id (as on
// Binance), and a page may end between them; `keyOf` drops the rows seen.
async function paged(ex, user, path, symbol, idParam, idOf, keyOf = idOf) {
  const out = [];
  const seen = new Set();
  let from = 0;
  for (;;) {
    const r = await signedRequest(ex.baseURL, user, 'GET', path, { symbol, [idParam]: from, limit: 1000 });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    for (const x of r.json) {
      const k = keyOf(x);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(x);
      }
    }
    if (r.json.length < 1000) return out;
    const last = idOf(r.json[r.json.length - 1]);
    from = last === from ? last + 1 : last;  // a whole page of one id: go on past it
  }
}

async function parallel(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) { const x = items[i++]; await fn(x); }
  }));
}

async function account(ex, user) {
  const r = await signedRequest(ex.baseURL, user, 'GET', '/api/v3/account');
  assert.equal(r.status, 200, r.text);
  const out = {};
  for (const b of r.json.balances) out[b.asset] = { free: units(b.free), locked: units(b.locked) };
  return out;
}

// Everything the restart guarantees, against the restarted `ex`.
async function checkRecovered(ex, users, pendingCredit, round) {
  const byId = new Map(users.map((u) => [u.userId, u]));
  const label = (s) => `round ${round}: ${s}`;

  // Every acknowledged order: exists, never went back.
  const current = new Map();
  await parallel([...acked.orders.entries()], 8, async ([key, a]) => {
    const r = await signedRequest(ex.baseURL, byId.get(a.user), 'GET', '/api/v3/order', { symbol: a.symbol, orderId: a.orderId });
    assert.equal(r.status, 200, label(`acknowledged order ${key} (${a.status} ${fmt(a.executedQty)}) lost: ${r.text}`));
    current.set(key, r.json);
  });
  for (const [key, a] of acked.orders) {
    const o = current.get(key);
    const ex8 = units(o.executedQty);
    const what = label(`order ${key}: acknowledged ${a.status} ${fmt(a.executedQty)}, now ${o.status} ${o.executedQty}`);
    assert.ok(ex8 >= a.executedQty, what);
    if (FINAL.has(a.status)) {
      assert.equal(o.status, a.status, what);
      assert.equal(ex8, a.executedQty, what);
    }
    if (acked.cancels.has(key)) {
      assert.equal(o.status, 'CANCELED', what);
      assert.equal(ex8, acked.cancels.get(key), what);
    }
    const orig = units(o.origQty);
    if (o.status === 'NEW') assert.equal(ex8, 0n, what);
    if (o.status === 'PARTIALLY_FILLED') assert.ok(ex8 > 0n && ex8 < orig, what);
    if (o.status === 'FILLED') assert.equal(ex8, orig, what);
  }

  // Per user: trades (every acknowledged fill among them), orders' executedQty
  // equal to their trades, balances = deposits + trade effects.
  const total = new Map();
  const commissions = new Map();
  const addTo = (m, asset, u) => m.set(asset, (m.get(asset) || 0n) + u);
  const tradesOf = new Map();  // userId -> trades
  for (const u of users) {
    const trades = [];
    const orders = [];
    for (const symbol of Object.keys(TRADED)) {
      trades.push(...await paged(ex, u, '/api/v3/myTrades', symbol, 'fromId', (t) => t.id,
                                 (t) => `${t.id}:${t.orderId}`));
      orders.push(...await paged(ex, u, '/api/v3/allOrders', symbol, 'orderId', (o) => o.orderId));
    }
    tradesOf.set(u.userId, trades);
    const filledBy = new Map();
    for (const t of trades) {
      const k = `${t.symbol}:${t.orderId}`;
      filledBy.set(k, (filledBy.get(k) || 0n) + units(t.qty));
    }
    for (const o of orders) {
      const k = `${o.symbol}:${o.orderId}`;
      assert.equal(fmt(filledBy.get(k) || 0n), fmt(units(o.executedQty)),
        label(`order ${k} of user ${u.userId}: executedQty ${o.executedQty} vs its myTrades`));
    }
    const want = new Map(acked.deposits.get(u.userId));
    if (pendingCredit && pendingCredit.userId === u.userId) want.pending = units(pendingCredit.amount);
    for (const t of trades) {
      const s = SYMS[t.symbol];
      const q = units(t.qty);
      const qq = units(t.quoteQty);
      assert.equal(qq, notional(t.price, t.qty), label(`trade quoteQty ${JSON.stringify(t)}`));
      const rate = t.isMaker ? s.makerFee : s.takerFee;
      assert.equal(units(t.commission), feeOf(t.isBuyer ? q : qq, rate), label(`commission ${JSON.stringify(t)}`));
      assert.equal(t.commissionAsset, t.isBuyer ? s.base : s.quote);
      addTo(want, s.base, t.isBuyer ? q : -q);
      addTo(want, s.quote, t.isBuyer ? -qq : qq);
      addTo(want, t.commissionAsset, -units(t.commission));
      addTo(commissions, t.commissionAsset, units(t.commission));
    }
    const b = await account(ex, u);
    for (const asset of new Set([...want.keys(), ...Object.keys(b)])) {
      const got = b[asset] ? b[asset].free + b[asset].locked : 0n;
      let w = want.get(asset) || 0n;
      // A credit in flight at the kill was either applied or not.
      if (asset === 'USDT' && want.pending !== undefined && got === w + want.pending) {
        w += want.pending;
        addDeposit(u.userId, 'USDT', pendingCredit.amount);
      }
      assert.equal(fmt(got), fmt(w), label(`user ${u.userId} ${asset}: free+locked vs deposits + trades`));
      addTo(total, asset, got);
    }
  }
  // Every trade has exactly one buyer side and one seller side (a fill the
  // crash cut between the two owners' partitions is applied exactly once).
  // The two sides carry different ids (each partition numbers its own), so
  // they are paired by symbol, time, price and quantity.
  const sideKeys = { buy: [], sell: [] };
  for (const trades of tradesOf.values()) {
    for (const t of trades) {
      sideKeys[t.isBuyer ? 'buy' : 'sell'].push(`${t.symbol} ${t.time} ${t.price} ${t.qty} ${t.isMaker ? 'maker' : 'taker'}`);
    }
  }
  const flip = (k) => k.replace(/maker$|taker$/, (m) => (m === 'maker' ? 'taker' : 'maker'));
  sideKeys.buy.sort();
  sideKeys.sell = sideKeys.sell.map(flip).sort();
  assert.equal(sideKeys.buy.length, sideKeys.sell.length, label('as many buyer sides as seller sides'));
  assert.deepEqual(sideKeys.buy, sideKeys.sell, label('buyer and seller sides pair up'));
  // Every acknowledged fill is in the taker's myTrades, unchanged.
  for (const [key, f] of acked.fills) {
    const t = tradesOf.get(f.user).find((x) => `${x.symbol}:${x.id}:${x.orderId}` === key);
    assert.ok(t, label(`acknowledged fill ${key} of order ${f.orderId} missing from myTrades`));
    assert.equal(units(t.price), f.price, key);
    assert.equal(units(t.qty), f.qty, key);
    assert.equal(units(t.commission), f.commission, key);
    assert.equal(t.commissionAsset, f.commissionAsset, key);
  }
  // Conservation: users + fees (the commissions) == deposits, per asset.
  const deposits = new Map();
  for (const m of acked.deposits.values()) for (const [a, v] of m) addTo(deposits, a, v);
  for (const [asset, dep] of deposits) {
    assert.equal(fmt((total.get(asset) || 0n) + (commissions.get(asset) || 0n)), fmt(dep),
      label(`${asset}: users ${fmt(total.get(asset) || 0n)} + fees ${fmt(commissions.get(asset) || 0n)} vs deposits`));
  }

  // Locked = what the open orders hold: a BUY limit price * remaining of the
  // quote, a SELL its remaining base. The public depth (seeded from the
  // recovered engine) is the sum of everyone's open orders.
  const depth = new Map();  // "SYM BUY|SELL" -> Map(price units -> qty units)
  for (const u of users) {
    const r = await signedRequest(ex.baseURL, u, 'GET', '/api/v3/openOrders', {});
    assert.equal(r.status, 200, r.text);
    for (const o of r.json) {
      const k = `${o.symbol} ${o.side}`;
      if (!depth.has(k)) depth.set(k, new Map());
      addTo(depth.get(k), units(o.price), units(o.origQty) - units(o.executedQty));
    }
    const hold = new Map();
    for (const o of r.json) {
      const s = SYMS[o.symbol];
      const rem = units(o.origQty) - units(o.executedQty);
      if (o.side === 'BUY') addTo(hold, s.quote, (units(o.price) * rem) / 100000000n);
      else addTo(hold, s.base, rem);
    }
    const b = await account(ex, u);
    for (const asset of Object.keys(b)) {
      assert.equal(fmt(b[asset].locked), fmt(hold.get(asset) || 0n),
        label(`user ${u.userId} ${asset}: locked vs its ${r.json.length} open orders`));
    }
  }

  for (const symbol of Object.keys(TRADED)) {
    const r = await httpRequest({ url: `${ex.baseURL}/api/v3/depth?symbol=${symbol}&limit=5000` });
    assert.equal(r.status, 200, r.text);
    const want = (side, dir) => [...(depth.get(`${symbol} ${side}`) || new Map())]
      .sort((x, y) => (x[0] < y[0] ? -dir : x[0] > y[0] ? dir : 0)).map(([p, q]) => [fmt(p), fmt(q)]);
    const got = (rows) => rows.map(([p, q]) => [fmt(units(p)), fmt(units(q))]);
    assert.deepEqual(got(r.json.bids), want('BUY', -1), label(`${symbol} depth bids vs open orders`));
    assert.deepEqual(got(r.json.asks), want('SELL', 1), label(`${symbol} depth asks vs open orders`));
  }

  // Cancel everything still open: nothing stays locked, the books are empty.
  for (const u of users) {
    for (const symbol of Object.keys(TRADED)) {
      const r = await signedRequest(ex.baseURL, u, 'DELETE', '/api/v3/openOrders', { symbol });
      if (r.status === 200) for (const c of r.json) recordCancel(u.userId, c);
      else assert.deepEqual(r.json, { code: -2011, msg: 'Unknown order sent.' }, label(`DELETE openOrders ${symbol}: ${r.text}`));
    }
    const open = await signedRequest(ex.baseURL, u, 'GET', '/api/v3/openOrders', {});
    assert.deepEqual(open.json, [], label(`open orders of ${u.userId} after cancelling all`));
    const b = await account(ex, u);
    for (const [asset, x] of Object.entries(b)) assert.equal(fmt(x.locked), fmt(0n), label(`user ${u.userId} ${asset} locked after cancelling all`));
  }
  for (const symbol of Object.keys(TRADED)) {
    const r = await httpRequest({ url: `${ex.baseURL}/api/v3/depth?symbol=${symbol}` });
    assert.deepEqual([r.json.bids, r.json.asks], [[], []], label(`${symbol} depth after cancelling all`));
  }
  return commissions;
}

// After the restart, a cross between two users fills and moves exactly
// its amounts (the book is empty: everything was cancelled).
async function crossAfterRestart(ex, seller, buyer) {
  const s = SYMS.BTCUSDT;
  const [sb0, bb0] = [await account(ex, seller), await account(ex, buyer)];
  const sell = await signedRequest(ex.baseURL, seller, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'SELL',
    type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '40000', newOrderRespType: 'FULL' });
  assert.equal(sell.status, 200, sell.text);
  assert.equal(sell.json.status, 'NEW');
  assert.deepEqual(sell.json.fills, []);
  recordOrder(seller.userId, sell.json);
  const buy = await signedRequest(ex.baseURL, buyer, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY',
    type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '40000', newOrderRespType: 'FULL' });
  assert.equal(buy.status, 200, buy.text);
  assert.equal(buy.json.status, 'FILLED');
  assert.equal(buy.json.fills.length, 1);
  const f = buy.json.fills[0];
  const base = units('0.01');
  const quote = notional('40000', '0.01');
  const buyerFee = feeOf(base, s.takerFee);
  const sellerFee = feeOf(quote, s.makerFee);
  assert.equal(units(f.price), units('40000'));
  assert.equal(units(f.qty), base);
  assert.equal(units(f.commission), buyerFee);
  assert.equal(f.commissionAsset, 'BTC');
  recordOrder(buyer.userId, buy.json);
  const so = await signedRequest(ex.baseURL, seller, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: sell.json.orderId });
  assert.equal(so.json.status, 'FILLED');
  recordOrder(seller.userId, so.json);
  const [sb1, bb1] = [await account(ex, seller), await account(ex, buyer)];
  const d = (b1, b0, a) => (b1[a].free + b1[a].locked) - (b0[a].free + b0[a].locked);
  assert.equal(fmt(d(bb1, bb0, 'BTC')), fmt(base - buyerFee));
  assert.equal(fmt(d(bb1, bb0, 'USDT')), fmt(-quote));
  assert.equal(fmt(d(sb1, sb0, 'BTC')), fmt(-base));
  assert.equal(fmt(d(sb1, sb0, 'USDT')), fmt(quote - sellerFee));
  for (const b of [sb1, bb1]) for (const x of Object.values(b)) assert.equal(x.locked, 0n);
}

test('SIGKILL during concurrent trading, restart, nothing acknowledged lost; three times', { timeout: 60000 }, async () => {
  const t0 = Date.now();
  let ex = await startExchange({ env: NO_RATE_LIMITS });
  started.push(ex);
  const dataDir = ex.dataDir;
  const users = [];
  for (let i = 0; i < 4; i++) {
    const u = await ex.createUser();
    for (const [asset, amount] of Object.entries(DEPOSITS)) {
      await ex.credit(u.userId, asset, amount);
      addDeposit(u.userId, asset, amount);
    }
    users.push(u);
  }
  const log = [];
  for (let round = 1; round <= KILL_AFTER_MS.length; round++) {
    const killAfter = KILL_AFTER_MS[round - 1] + rnd(300);
    const { pendingCredit, stats } = await tradeUntilKill(ex, users, killAfter);
    assert.deepEqual(unexpected, [], `round ${round}: unexpected answers\n${ex.output()}`);
    assert.ok(stats.orders > 5, `round ${round}: only ${stats.orders} orders answered`);
    const t1 = Date.now();
    ex = await startExchange({ dataDir, env: NO_RATE_LIMITS });
    started.push(ex);
    const restartMs = Date.now() - t1;
    await checkRecovered(ex, users, pendingCredit, round);
    await crossAfterRestart(ex, users[round % 4], users[(round + 1) % 4]);
    assert.deepEqual(unexpected, [], `round ${round} after the restart: unexpected answers`);
    log.push(`round ${round}: kill after ${killAfter} ms, ${JSON.stringify(stats)}, restart ${restartMs} ms`);
  }
  // The last restart's state still conserves after the crosses. Then a
  // clean stop with an order resting (the next test restarts on it: the
  // order is kept or cancelled, never lost, and everything still holds).
  await checkRecovered(ex, users, null, 'final');
  const rest = await signedRequest(ex.baseURL, users[0], 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY',
    type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '39990' });
  assert.equal(rest.status, 200, rest.text);
  recordOrder(users[0].userId, rest.json);
  await ex.stop();
  after1 = { dataDir, users };
  console.log(`${log.join('\n')}\nacknowledged: ${acked.orders.size} orders, ${acked.fills.size} fills, ${acked.cancels.size} cancels; ${Date.now() - t0} ms`);
});

// Once failed (the shutdown snapshot's retention cut journal segments that
// recovery still needed): order, SIGKILL, restart, order, SIGTERM, restart.
test('restart after the clean SIGTERM that followed the crash restarts', async () => {
  assert.ok(after1, 'the crash test did not get to its SIGTERM');
  const ex = await startExchange({ dataDir: after1.dataDir, env: NO_RATE_LIMITS });
  started.push(ex);
  await checkRecovered(ex, after1.users, null, 'after SIGTERM');
  await ex.stop();
});

// The public market data after a crash: the books come back (seeded from the
// recovered engine, checked above); Binance also keeps the trade history,
// so the last price, the trades and the 1m kline survive.
test('market data after a restart: last price, trades, klines kept', {
  todo: 'after a restart /api/v3/trades and klines are [], ticker/price is "0.00000000", avgPrice "0.00000000" with closeTime 0, '
    + 'ticker/24hr count 0 firstId -1: the trade history is not recovered',
}, async () => {
  const ex1 = await startExchange({ env: NO_RATE_LIMITS });
  started.push(ex1);
  const [a, b] = [await ex1.createFundedUser({ BTC: '1' }), await ex1.createFundedUser({ USDT: '100000' })];
  const o = (ex, u, side) => signedRequest(ex.baseURL, u, 'POST', '/api/v3/order',
    { symbol: 'BTCUSDT', side, type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '39000' });
  assert.equal((await o(ex1, a, 'SELL')).json.status, 'NEW');
  assert.equal((await o(ex1, b, 'BUY')).json.status, 'FILLED');
  const get = async (ex, p) => (await httpRequest({ url: `${ex.baseURL}/api/v3/${p}` })).json;
  const before = {
    price: await get(ex1, 'ticker/price?symbol=BTCUSDT'),
    trades: await get(ex1, 'trades?symbol=BTCUSDT'),
    klines: await get(ex1, 'klines?symbol=BTCUSDT&interval=1m'),
  };
  assert.equal(before.price.price, '39000.00000000');
  await ex1.kill();
  const ex2 = await startExchange({ dataDir: ex1.dataDir, env: NO_RATE_LIMITS });
  started.push(ex2);
  try {
    assert.deepEqual(await get(ex2, 'ticker/price?symbol=BTCUSDT'), before.price);
    assert.deepEqual(await get(ex2, 'trades?symbol=BTCUSDT'), before.trades);
    assert.deepEqual(await get(ex2, 'klines?symbol=BTCUSDT&interval=1m'), before.klines);
  } finally {
    await ex2.stop();
    ex1.cleanup();
  }
});
