// ccxt.binance (REST) against the real exchange binary, configured as
// BINANCE_COMPAT.md §3 says (spot markets only, no /sapi calls): loadMarkets,
// fetchBalance, createOrder limit/market, fetchOrder, fetchOpenOrders,
// cancelOrder, cancelAllOrders, fetchMyTrades, fetchOrders, the ccxt error
// classes our answers map to, exact balances and conservation.
//
// Steps run in order and build on each other (one exchange for the file).
// A new endpoint gets its own describe() block before the conservation
// check; see the TODO there.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import ccxt from 'ccxt';

import { symbolsOf } from './lib/config.mjs';
import { startExchange } from './lib/exchange.mjs';
import { accountBalances, httpRequest, ping } from './lib/http.mjs';
import { Ledger, fmt, units } from './lib/money.mjs';
import { waitFor } from './lib/util.mjs';

const BTCUSDT = symbolsOf().BTCUSDT;

let ex;
const ledger = new Ledger();
const users = {};    // name -> {userId, apiKey, secretKey}
const clients = {};  // name -> ccxt.binance

function binance(user) {
  const api = `${ex.baseURL}/api/v3`;
  return new ccxt.binance({
    apiKey: user ? user.apiKey : undefined,
    secret: user ? user.secretKey : undefined,
    // sapi is pointed at us too, so that a stray /sapi call fails here
    // (404) instead of sending the key to the real Binance.
    urls: { api: { public: api, private: api, v1: api, sapi: `${ex.baseURL}/sapi/v1` } },
    options: {
      fetchMarkets: { types: ['spot'] },
      fetchCurrencies: false,
      fetchMargins: false,
      fetchOpenOrders: { warnWithoutSymbol: false },
    },
    enableRateLimit: false,
  });
}

async function makeUser(name, deposits) {
  const u = await ex.createUser();
  for (const [asset, amount] of Object.entries(deposits)) {
    await ex.credit(u.userId, asset, amount);
    ledger.deposit(u.userId, asset, amount);
  }
  users[name] = u;
  clients[name] = binance(u);
  await clients[name].loadMarkets();
}

function fill({ buyer, seller, price, qty, makerSide }) {
  return ledger.trade(BTCUSDT, { buyer: users[buyer].userId, seller: users[seller].userId, price, qty, makerSide });
}

// fetchOrder shows `status` ('open', 'closed', 'canceled', 'expired') and
// `filled` (a decimal string) when given. An answer waits for the engine and
// its own user's partition; a trade's counterparty may be settled by another
// partition's thread microseconds later, so the read polls briefly (up to
// 5 s) before asserting.
async function waitOrder(name, id, status, filled) {
  const fetch = () => clients[name].fetchOrder(id, 'BTC/USDT');
  const o = await waitFor(fetch, (x) => x.status === status
      && (filled === undefined || units(x.filled.toFixed(8)) === units(filled)),
  { timeoutMs: 5000, intervalMs: 5, what: `order ${id}` }).catch(() => fetch());
  assert.equal(o.status, status, `order ${id} of ${name}: ${JSON.stringify(o.info)}`);
  if (filled !== undefined) assert.equal(units(o.filled.toFixed(8)), units(filled), `order ${id} of ${name}: ${JSON.stringify(o.info)}`);
  return o;
}

// A createOrder answer (FULL) shows the state after matching.
function checkCreated(o, status, filled, trades) {
  assert.equal(o.status, status, JSON.stringify(o.info));
  assert.equal(units(o.filled.toFixed(8)), units(filled), JSON.stringify(o.info));
  assert.equal(o.trades.length, trades, JSON.stringify(o.info));
}

// Exact free + locked per asset against the ledger (raw account, not
// ccxt's floats); `locked` pins the locked part.
async function checkBalances(name, locked = {}) {
  const want = ledger.users.get(users[name].userId);
  const read = () => accountBalances(ex.baseURL, users[name]);
  const agrees = (g) => [...want].every(([a, u]) => g[a] && units(g[a].free) + units(g[a].locked) === u)
    && Object.entries(locked).every(([a, l]) => g[a] && units(g[a].locked) === units(l));
  const got = await waitFor(read, agrees, { timeoutMs: 5000, intervalMs: 5, what: `balances of ${name}` })
    .catch(() => read());
  const what = `balances of ${name} = ${JSON.stringify([...want].map(([a, u]) => [a, fmt(u)]))} locked ${JSON.stringify(locked)}; got ${JSON.stringify(got)}`;
  for (const [asset, u] of want) {
    assert.ok(got[asset], what);
    assert.equal(fmt(units(got[asset].free) + units(got[asset].locked)), fmt(u), what);
  }
  for (const [asset, l] of Object.entries(locked)) {
    assert.ok(got[asset], what);
    assert.equal(fmt(units(got[asset].locked)), fmt(units(l)), what);
  }
  return got;
}

before(async () => {
  ex = await startExchange();
  await makeUser('alice', { BTC: '3', USDT: '50000' });
  await makeUser('bob', { BTC: '1', USDT: '100000' });
});

after(async () => {
  if (ex) await ex.stop();
});

describe('markets and balances', () => {
  test('loadMarkets: the configured spot markets, precision and limits from the filters', async () => {
    const c = binance(null);
    const m = await c.loadMarkets();
    assert.deepEqual(Object.keys(m).sort(), ['BTC/USDT', 'ETH/BTC', 'ETH/USDT']);
    const b = m['BTC/USDT'];
    assert.equal(b.id, 'BTCUSDT');
    assert.equal(b.spot, true);
    assert.equal(b.active, true);
    assert.equal(b.base, 'BTC');
    assert.equal(b.quote, 'USDT');
    assert.equal(b.precision.price, Number(BTCUSDT.tickSize));
    assert.equal(b.precision.amount, Number(BTCUSDT.stepSize));
    assert.equal(b.limits.amount.min, Number(BTCUSDT.minQty));
    assert.equal(b.limits.cost.min, Number(BTCUSDT.minNotional));
  });

  test('fetchTime', async () => {
    const t = await clients.alice.fetchTime();
    assert.ok(Math.abs(t - Date.now()) < 5000);
  });

  test('fetchBalance shows the deposits', async () => {
    const b = await clients.bob.fetchBalance();
    assert.equal(b.USDT.free, 100000);
    assert.equal(b.USDT.used, 0);
    assert.equal(b.BTC.total, 1);
  });
});

let aliceSell;  // alice's limit sell 0.3 @ 40000

describe('orders', () => {
  test('createOrder limit (GTC) rests', async () => {
    const o = await clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 0.3, 40000);
    aliceSell = o.id;
    assert.equal(o.symbol, 'BTC/USDT');
    assert.equal(o.type, 'limit');
    assert.equal(o.side, 'sell');
    assert.equal(o.price, 40000);
    assert.equal(o.amount, 0.3);
    assert.equal(o.timeInForce, 'GTC');
    assert.match(o.clientOrderId, /^x-TKT5PX2F[0-9a-f]{22}$/, 'ccxt generated id (32 chars) accepted');
    checkCreated(o, 'open', '0', 0);
    await waitOrder('alice', aliceSell, 'open');
    await checkBalances('alice', { BTC: '0.3' });
  });

  test('createOrder limit buy takes part of it', async () => {
    const o = await clients.bob.createOrder('BTC/USDT', 'limit', 'buy', 0.1, 40000);
    fill({ buyer: 'bob', seller: 'alice', price: '40000', qty: '0.1', makerSide: 'SELL' });
    checkCreated(o, 'closed', '0.1', 1);
    assert.equal(o.trades[0].price, 40000);
    assert.equal(o.trades[0].amount, 0.1);
    assert.equal(o.trades[0].fee.currency, 'BTC');
    assert.equal(o.trades[0].fee.cost, 0.0001);
    const f = await waitOrder('bob', o.id, 'closed', '0.1');
    assert.equal(f.cost, 4000);
    assert.equal(f.average, 40000);
    const s = await waitOrder('alice', aliceSell, 'open', '0.1');
    assert.equal(s.remaining, 0.2);
    await checkBalances('bob', { BTC: '0', USDT: '0' });
    await checkBalances('alice', { BTC: '0.2' });
  });

  test('createOrder market buy by amount', async () => {
    const o = await clients.bob.createOrder('BTC/USDT', 'market', 'buy', 0.05);
    checkCreated(o, 'closed', '0.05', 1);
    fill({ buyer: 'bob', seller: 'alice', price: '40000', qty: '0.05', makerSide: 'SELL' });
    const f = await waitOrder('bob', o.id, 'closed', '0.05');
    assert.equal(f.type, 'market');
    assert.equal(f.cost, 2000);
    await checkBalances('bob', { BTC: '0', USDT: '0' });
  });

  test('createOrder market buy with a price: ccxt sends quoteOrderQty = amount * price', async () => {
    const o = await clients.bob.createOrder('BTC/USDT', 'market', 'buy', 0.05, 40000);
    checkCreated(o, 'closed', '0.05', 1);
    fill({ buyer: 'bob', seller: 'alice', price: '40000', qty: '0.05', makerSide: 'SELL' });
    const f = await waitOrder('bob', o.id, 'closed', '0.05');
    assert.equal(f.cost, 2000);
    await checkBalances('alice', { BTC: '0.1' });
  });

  test('createOrder market sell against a resting bid (bob is maker)', async () => {
    const bid = await clients.bob.createOrder('BTC/USDT', 'limit', 'buy', 0.2, 39000);
    checkCreated(bid, 'open', '0', 0);
    const o = await clients.alice.createOrder('BTC/USDT', 'market', 'sell', 0.05);
    checkCreated(o, 'closed', '0.05', 1);
    assert.equal(o.trades[0].price, 39000);
    fill({ buyer: 'bob', seller: 'alice', price: '39000', qty: '0.05', makerSide: 'BUY' });
    await waitOrder('alice', o.id, 'closed', '0.05');
    await waitOrder('bob', bid.id, 'open', '0.05');
    await checkBalances('bob', { BTC: '0', USDT: fmt(units('39000') * 15n / 100n) });
    await checkBalances('alice', { BTC: '0.1', USDT: '0' });
  });

  test('order timestamps are real times', async () => {
    const o = await clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 0.001, 60000);
    try {
      assert.ok(o.timestamp > 1e12, `timestamp ${o.timestamp} (info ${JSON.stringify(o.info)})`);
    } finally {
      await clients.alice.cancelOrder(o.id, 'BTC/USDT');
      await waitOrder('alice', o.id, 'canceled');
    }
  });

  test('fetchOpenOrders with and without symbol', async () => {
    const a = await clients.alice.fetchOpenOrders('BTC/USDT');
    assert.deepEqual(a.map((o) => o.id), [aliceSell]);
    assert.equal(a[0].status, 'open');
    assert.equal(a[0].filled, 0.2);
    const b = await clients.bob.fetchOpenOrders();
    assert.equal(b.length, 1);
    assert.equal(b[0].side, 'buy');
    assert.equal(b[0].price, 39000);
  });

  test('cancelOrder', async () => {
    const c = await clients.alice.cancelOrder(aliceSell, 'BTC/USDT');
    assert.equal(c.id, aliceSell);
    assert.equal(c.status, 'canceled');
    const o = await waitOrder('alice', aliceSell, 'canceled', '0.2');
    assert.equal(o.remaining, 0.1);
    await checkBalances('alice', { BTC: '0' });
  });

  test('cancelAllOrders', async () => {
    const ids = [];
    for (const px of [45000, 46000]) ids.push((await clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 0.01, px)).id);
    assert.equal((await clients.alice.fetchOpenOrders('BTC/USDT')).length, 2);
    const r = await clients.alice.cancelAllOrders('BTC/USDT');
    assert.deepEqual(r.map((o) => o.id).sort(), [...ids].sort());
    assert.deepEqual(await clients.alice.fetchOpenOrders('BTC/USDT'), []);
    for (const id of ids) await waitOrder('alice', id, 'canceled', '0');
    // Nothing open any more: Binance's -2011, which ccxt maps to OrderNotFound.
    await assert.rejects(clients.alice.cancelAllOrders('BTC/USDT'), ccxt.OrderNotFound);
    await checkBalances('alice', { BTC: '0' });
  });
});

describe('history', () => {
  test('fetchMyTrades: sides, maker/taker, fees', async () => {
    const t = await clients.bob.fetchMyTrades('BTC/USDT');
    assert.equal(t.length, 4);
    assert.deepEqual(t.map((x) => [x.side, x.takerOrMaker, x.price, x.amount]),
      [['buy', 'taker', 40000, 0.1], ['buy', 'taker', 40000, 0.05], ['buy', 'taker', 40000, 0.05],
        ['buy', 'maker', 39000, 0.05]]);
    for (const x of t) {
      assert.equal(x.fee.currency, 'BTC');
      const rate = x.takerOrMaker === 'maker' ? BTCUSDT.makerFee : BTCUSDT.takerFee;
      assert.equal(units(x.fee.cost.toFixed(8)), units(x.amount.toFixed(8)) * units(rate) / 100000000n);
      assert.ok(x.timestamp > 1e12);
      assert.ok(x.order);
    }
    const a = await clients.alice.fetchMyTrades('BTC/USDT');
    assert.equal(a.length, 4);
    assert.ok(a.every((x) => x.side === 'sell' && x.fee.currency === 'USDT'));
  });

  test('fetchOrders: every order with its final state', async () => {
    const a = await clients.alice.fetchOrders('BTC/USDT');
    const st = a.map((o) => o.status);
    // sell 0.3 (canceled after 0.2), market sell, timestamp probe, two cancelAll.
    assert.equal(a.length, 5, JSON.stringify(st));
    assert.equal(st.filter((s) => s === 'canceled').length, 4);
    assert.equal(st.filter((s) => s === 'closed').length, 1);
    const b = await clients.bob.fetchOrders('BTC/USDT');
    assert.deepEqual(b.map((o) => o.status), ['closed', 'closed', 'closed', 'open']);
  });
});

describe('errors as ccxt classes', () => {
  test('postOnly that would take: OrderImmediatelyFillable', async () => {
    await clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 0.01, 39000, { postOnly: true })
      .then(() => assert.fail('accepted'), (e) => assert.ok(e instanceof ccxt.OrderImmediatelyFillable, String(e)));
  });

  test('more than the balance: InsufficientFunds', async () => {
    await assert.rejects(clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 100, 50000), ccxt.InsufficientFunds);
  });

  test('below the minimum notional: BadRequest with "Filter failure: NOTIONAL"', async () => {
    await assert.rejects(clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 0.0001, 40000),
      (e) => e instanceof ccxt.BadRequest && e.message.includes('{"code":-1013,"msg":"Filter failure: NOTIONAL"}'));
  });

  test('fetchOrder of an unknown id: OrderNotFound', async () => {
    await assert.rejects(clients.alice.fetchOrder('123456789', 'BTC/USDT'), ccxt.OrderNotFound);
  });

  test('a wrong secret: AuthenticationError', async () => {
    const c = binance({ apiKey: users.alice.apiKey, secretKey: '0'.repeat(64) });
    c.markets = clients.alice.markets;
    c.marketsById = clients.alice.marketsById;
    c.symbols = clients.alice.symbols;
    await assert.rejects(c.fetchBalance(), ccxt.AuthenticationError);
    await ping(ex.baseURL);
  });
});

// Market data through ccxt, createOrder {test: true} and editOrder
// (cancelReplace). BTC/USDT traded 4 times above (0.1, 0.05, 0.05 @ 40000,
// then 0.05 @ 39000 into bob's bid); here alice asks 0.02 + 0.03 @ 41000,
// 0.01 @ 41500, 0.01 @ 42000 and bob buys 0.06 @ 41500: trades 5, 6, 7.
describe('market data, test orders, editOrder', () => {
  let aliceAsks = [];
  const book = (side) => side.map(([p, q]) => [p, q]);

  test('fetchOrderBook and fetchBidsAsks show the resting levels', async () => {
    for (const [qty, px] of [[0.02, 41000], [0.03, 41000], [0.01, 41500], [0.01, 42000]]) {
      const o = await clients.alice.createOrder('BTC/USDT', 'limit', 'sell', qty, px);
      checkCreated(o, 'open', '0', 0);
      aliceAsks.push(o.id);
    }
    const ob = await binance(null).fetchOrderBook('BTC/USDT');
    assert.deepEqual(book(ob.bids), [[39000, 0.15]]);
    assert.deepEqual(book(ob.asks), [[41000, 0.05], [41500, 0.01], [42000, 0.01]]);
    assert.ok(Number.isInteger(ob.nonce) && ob.nonce > 0, `nonce ${ob.nonce}`);
    const ba = await clients.bob.fetchBidsAsks(['BTC/USDT']);
    const t = ba['BTC/USDT'];
    assert.deepEqual([t.bid, t.bidVolume, t.ask, t.askVolume], [39000, 0.15, 41000, 0.05]);
  });

  test('a cross, then fetchTrades (aggTrades and trades)', async () => {
    const o = await clients.bob.createOrder('BTC/USDT', 'limit', 'buy', 0.06, 41500);
    checkCreated(o, 'closed', '0.06', 3);
    assert.deepEqual(o.trades.map((x) => [x.price, x.amount]), [[41000, 0.02], [41000, 0.03], [41500, 0.01]]);
    fill({ buyer: 'bob', seller: 'alice', price: '41000', qty: '0.02', makerSide: 'SELL' });
    fill({ buyer: 'bob', seller: 'alice', price: '41000', qty: '0.03', makerSide: 'SELL' });
    fill({ buyer: 'bob', seller: 'alice', price: '41500', qty: '0.01', makerSide: 'SELL' });
    for (const id of aliceAsks.slice(0, 3)) await waitOrder('alice', id, 'closed');
    aliceAsks = aliceAsks.slice(3);
    await checkBalances('alice', { BTC: '0.01', USDT: '0' });
    await checkBalances('bob', { BTC: '0', USDT: fmt(units('39000') * 15n / 100n) });

    const agg = await binance(null).fetchTrades('BTC/USDT');
    assert.deepEqual(agg.map((x) => [x.id, x.price, x.amount, x.side]), [
      ['1', 40000, 0.1, 'buy'], ['2', 40000, 0.05, 'buy'], ['3', 40000, 0.05, 'buy'], ['4', 39000, 0.05, 'sell'],
      ['5', 41000, 0.05, 'buy'], ['6', 41500, 0.01, 'buy'],
    ]);
    const raw = await binance(null).fetchTrades('BTC/USDT', undefined, undefined, { fetchTradesMethod: 'publicGetTrades' });
    assert.deepEqual(raw.map((x) => [x.id, x.price, x.amount, x.cost]), [
      ['1', 40000, 0.1, 4000], ['2', 40000, 0.05, 2000], ['3', 40000, 0.05, 2000], ['4', 39000, 0.05, 1950],
      ['5', 41000, 0.02, 820], ['6', 41000, 0.03, 1230], ['7', 41500, 0.01, 415],
    ]);
    assert.equal(agg[4].timestamp, raw[4].timestamp);
  });

  test('fetchOHLCV: 1m candles equal the trades grouped by minute', async () => {
    const r = await httpRequest({ url: `${ex.baseURL}/api/v3/trades?symbol=BTCUSDT` });
    const byMinute = new Map();
    for (const t of r.json) {
      const m = Math.floor(t.time / 60000) * 60000;
      const p = units(t.price);
      const c = byMinute.get(m);
      if (!c) byMinute.set(m, { o: p, h: p, l: p, c: p, v: units(t.qty) });
      else Object.assign(c, { h: c.h > p ? c.h : p, l: c.l < p ? c.l : p, c: p, v: c.v + units(t.qty) });
    }
    const rows = await binance(null).fetchOHLCV('BTC/USDT', '1m');
    const u = (x) => units(x.toFixed(8));
    let prevClose;
    for (const [ts, o, h, l, c, v] of rows) {
      const want = byMinute.get(ts);
      if (want) {
        assert.deepEqual([o, h, l, c, v].map(u), [want.o, want.h, want.l, want.c, want.v], `candle ${ts}`);
        byMinute.delete(ts);
      } else if (prevClose !== undefined) {
        // A minute without trades: flat at the previous close, no volume.
        assert.deepEqual([o, h, l, c, v].map(u), [prevClose, prevClose, prevClose, prevClose, 0n], `gap ${ts}`);
      }
      prevClose = u(c);
    }
    assert.equal(byMinute.size, 0, `minutes with trades but no candle: ${[...byMinute.keys()]}`);
  });

  test('fetchTicker: the 24h statistics of the seven trades and the book', async () => {
    const t = await binance(null).fetchTicker('BTC/USDT');
    assert.equal(t.symbol, 'BTC/USDT');
    assert.deepEqual([t.open, t.high, t.low, t.last, t.close], [40000, 41500, 39000, 41500, 41500]);
    assert.equal(t.change, 1500);
    assert.equal(t.percentage, 3.75);
    assert.equal(t.baseVolume, 0.31);
    assert.equal(t.quoteVolume, 12415);
    // 12415 / 0.31, 8 decimals, truncated.
    assert.equal(units(t.vwap.toFixed(8)), units('40048.38709677'));
    assert.deepEqual([t.bid, t.bidVolume, t.ask, t.askVolume], [39000, 0.15, 42000, 0.01]);
    assert.ok(t.timestamp > 1e12);
  });

  test('createOrder {test: true}: answered, nothing placed, checks applied', async () => {
    const o = await clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 0.01, 43000, { test: true });
    assert.deepEqual(o.info, {});
    assert.deepEqual((await clients.alice.fetchOpenOrders('BTC/USDT')).map((x) => x.id), aliceAsks);
    await assert.rejects(clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 100, 43000, { test: true }),
      ccxt.InsufficientFunds);
    await assert.rejects(clients.alice.createOrder('BTC/USDT', 'limit', 'sell', 0.01, 39000, { test: true, postOnly: true }),
      ccxt.OrderImmediatelyFillable);
    await checkBalances('alice', { BTC: '0.01', USDT: '0' });
  });

  test('editOrder moves the ask (cancelReplace)', async () => {
    const o = await clients.alice.editOrder(aliceAsks[0], 'BTC/USDT', 'limit', 'sell', 0.01, 42500);
    assert.notEqual(o.id, aliceAsks[0]);
    assert.equal(o.status, 'open');
    assert.equal(o.price, 42500);
    assert.equal(o.amount, 0.01);
    await waitOrder('alice', aliceAsks[0], 'canceled', '0');
    const ob = await binance(null).fetchOrderBook('BTC/USDT');
    assert.deepEqual(book(ob.asks), [[42500, 0.01]]);
    // Editing the cancelled order: Binance's -2022 with the cancel's -2011,
    // which ccxt raises as a plain ExchangeError; nothing changes.
    await assert.rejects(clients.alice.editOrder(aliceAsks[0], 'BTC/USDT', 'limit', 'sell', 0.01, 42600),
      (e) => e instanceof ccxt.ExchangeError && e.message.includes('{"code":-2022,"msg":"Order cancel-replace failed.",'
        + '"data":{"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},'
        + '"newOrderResponse":null}}'));
    assert.deepEqual(book((await binance(null).fetchOrderBook('BTC/USDT')).asks), [[42500, 0.01]]);
    const c = await clients.alice.cancelOrder(o.id, 'BTC/USDT');
    assert.equal(c.status, 'canceled');
    assert.deepEqual((await binance(null).fetchOrderBook('BTC/USDT')).asks, []);
    await checkBalances('alice', { BTC: '0', USDT: '0' });
  });
});


describe('money conservation', () => {
  test('every balance exact, and users + fees = deposits', async () => {
    await clients.bob.cancelAllOrders('BTC/USDT');
    const totals = new Map();
    for (const name of Object.keys(users)) {
      const b = await checkBalances(name, { BTC: '0', USDT: '0' });
      for (const [asset, x] of Object.entries(b)) totals.set(asset, (totals.get(asset) || 0n) + units(x.free) + units(x.locked));
    }
    for (const [asset, dep] of ledger.deposits) {
      const fees = ledger.fees.get(asset) || 0n;
      assert.equal(fmt((totals.get(asset) || 0n) + fees), fmt(dep), `${asset}: fees ${fmt(fees)}`);
    }
  });
});
