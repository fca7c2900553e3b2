// @binance/connector (Spot REST) against the real exchange binary: users
// and deposits through the admin API, every order type, partial fills
// between two users, cancels, queries, exact balances after maker/taker
// fees, and money conservation over everything the file did.
//
// Steps run in order and build on each other (one exchange for the file).
// A new endpoint gets its own describe() block near the end, before the
// conservation check; see the TODO list there.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';


import { symbolsOf } from './lib/config.mjs';
import { spotClient } from './lib/connector.mjs';
import { startExchange } from './lib/exchange.mjs';
import { Ledger, fmt, notional, units } from './lib/money.mjs';
import { waitFor } from './lib/util.mjs';


const SYMS = symbolsOf();
const BTCUSDT = SYMS.BTCUSDT;
const ETHUSDT = SYMS.ETHUSDT;

let ex;
const ledger = new Ledger();
const users = {};    // name -> {userId, apiKey, secretKey}
const clients = {};  // name -> Spot

// The connector logs every error response to console.error; keep output quiet.

// A Spot whose failed calls throw an Error that shows the HTTP status and
// body (axios errors only say "Request failed with status code 400").
function spot(apiKey, secret) {
  return spotClient(ex.baseURL, apiKey, secret);
}

async function makeUser(name, deposits) {
  const u = await ex.createUser();
  for (const [asset, amount] of Object.entries(deposits)) {
    const r = await ex.credit(u.userId, asset, amount);
    assert.equal(r.asset, asset);
    ledger.deposit(u.userId, asset, amount);
  }
  users[name] = u;
  clients[name] = spot(u.apiKey, u.secretKey);
}

// The connector raises axios errors; returns {status, data} of one.
async function apiError(promise) {
  try {
    const r = await promise;
    assert.fail(`expected an error, got HTTP ${r.status} ${JSON.stringify(r.data)}`);
  } catch (e) {
    if (!e.response) throw e;
    return { status: e.response.status, data: e.response.data };
  }
}

async function order(name, symbol, orderId) {
  return (await clients[name].getOrder(symbol, { orderId })).data;
}

// An answer waits for the engine and for the settlement of its own user's
// partition. The counterparty of a trade may belong to another partition,
// which applies the same engine events on its own thread microseconds later,
// so a read of the other side polls briefly (up to 5 s) before asserting.
const settled = (fn, pred, what) => waitFor(fn, pred, { timeoutMs: 5000, intervalMs: 5, what })
  .catch(() => fn());

async function waitOrder(name, symbol, orderId, status, executedQty) {
  const o = await settled(() => order(name, symbol, orderId),
    (x) => x.status === status && (executedQty === undefined || x.executedQty === executedQty),
    `order ${orderId}`);
  assert.equal(o.status, status, `order ${orderId} of ${name}: ${JSON.stringify(o)}`);
  if (executedQty !== undefined) assert.equal(o.executedQty, executedQty, `order ${orderId} of ${name}: ${JSON.stringify(o)}`);
  return o;
}

// The answer of an order (RESULT/FULL) shows its state after matching.
function checkAnswer(resp, status, executedQty) {
  assert.equal(resp.status, status, JSON.stringify(resp));
  assert.equal(units(resp.executedQty), units(executedQty), JSON.stringify(resp));
}

async function balances(name) {
  const r = await clients[name].account();
  const out = {};
  for (const b of r.data.balances) out[b.asset] = b;
  return out;
}

// free + locked of every asset of `name` equals the ledger; `locked` (asset
// -> decimal) pins the locked part where the test knows it.
async function checkBalances(name, locked = {}) {
  const uid = users[name].userId;
  const want = ledger.users.get(uid);
  const agrees = (b) => [...want].every(([asset, u]) => b[asset]
      && units(b[asset].free) + units(b[asset].locked) === u)
    && Object.entries(locked).every(([asset, l]) => b[asset] && units(b[asset].locked) === units(l));
  const b = await settled(() => balances(name), agrees, `balances of ${name}`);
  const what = `balances of ${name} = ${JSON.stringify([...want].map(([a, u]) => [a, fmt(u)]))} locked ${JSON.stringify(locked)}; got ${JSON.stringify(b)}`;
  for (const [asset, u] of want) {
    assert.ok(b[asset], what);
    assert.equal(fmt(units(b[asset].free) + units(b[asset].locked)), fmt(u), what);
  }
  for (const [asset, l] of Object.entries(locked)) {
    assert.ok(b[asset], what);
    assert.equal(fmt(units(b[asset].locked)), fmt(units(l)), what);
  }
  return b;
}

// FULL response fills: the answer waits for the engine, so they are
// there and equal `expected` ([] when nothing matched).
function checkFills(resp, expected) {
  assert.ok(Array.isArray(resp.fills), `no fills in ${JSON.stringify(resp)}`);
  assert.equal(resp.fills.length, expected.length, `fills ${JSON.stringify(resp.fills)}`);
  resp.fills.forEach((f, i) => {
    const e = expected[i];
    assert.equal(units(f.price), units(e.price));
    assert.equal(units(f.qty), units(e.qty));
    assert.equal(units(f.commission), e.commission, `commission of fill ${i}`);
    assert.equal(f.commissionAsset, e.commissionAsset);
    assert.ok(Number.isInteger(f.tradeId));
  });
}

// A fill where `taker` took `qty` at `price` from `maker` on `sym`.
function fill(sym, { buyer, seller, price, qty, makerSide }) {
  const r = ledger.trade(sym, { buyer: users[buyer].userId, seller: users[seller].userId, price, qty, makerSide });
  const takerBuys = makerSide === 'SELL';
  return {
    price, qty,
    commission: takerBuys ? r.buyerFee : r.sellerFee,
    commissionAsset: takerBuys ? sym.base : sym.quote,
  };
}

before(async () => {
  ex = await startExchange();
  await makeUser('maker', { BTC: '5', USDT: '100000', ETH: '10' });
  await makeUser('taker', { BTC: '2', USDT: '200000.5' });
  await makeUser('canceller', { USDT: '50000', ETH: '20' });
  await makeUser('quoter', { USDT: '10000' });
});

after(async () => {
  if (ex) await ex.stop();
});

describe('public endpoints', () => {
  test('ping, time', async () => {
    const c = spot('', '');
    assert.deepEqual((await c.ping()).data, {});
    const t = (await c.time()).data.serverTime;
    assert.ok(Math.abs(t - Date.now()) < 5000, `serverTime ${t}`);
  });

  test('exchangeInfo matches the configuration', async () => {
    const r = (await clients.maker.exchangeInfo({ symbol: 'BTCUSDT' })).data;
    assert.equal(r.symbols.length, 1);
    const s = r.symbols[0];
    assert.equal(s.symbol, 'BTCUSDT');
    assert.equal(s.status, 'TRADING');
    assert.equal(s.baseAsset, BTCUSDT.base);
    assert.equal(s.quoteAsset, BTCUSDT.quote);
    const f = Object.fromEntries(s.filters.map((x) => [x.filterType, x]));
    assert.equal(units(f.PRICE_FILTER.tickSize), units(BTCUSDT.tickSize));
    assert.equal(units(f.LOT_SIZE.stepSize), units(BTCUSDT.stepSize));
    assert.equal(units(f.LOT_SIZE.minQty), units(BTCUSDT.minQty));
    assert.equal(units(f.NOTIONAL.minNotional), units(BTCUSDT.minNotional));
    for (const t of ['LIMIT', 'LIMIT_MAKER', 'MARKET']) assert.ok(s.orderTypes.includes(t), t);
    const all = (await clients.maker.exchangeInfo({ symbols: ['BTCUSDT', 'ETHUSDT'] })).data;
    assert.deepEqual(all.symbols.map((x) => x.symbol).sort(), ['BTCUSDT', 'ETHUSDT']);
  });
});

describe('deposits', () => {
  test('account shows the deposits', async () => {
    for (const name of Object.keys(users)) await checkBalances(name, { BTC: '0', USDT: '0' });
    const a = (await clients.taker.account()).data;
    assert.equal(a.canTrade, true);
    assert.equal(a.accountType, 'SPOT');
    assert.equal(a.balances.find((b) => b.asset === 'USDT').free, '200000.50000000');
  });
});

let restingSell;  // maker's LIMIT GTC SELL 0.5 @ 40000

describe('LIMIT GTC / IOC / FOK and partial fills between two users', () => {
  test('GTC sell rests, GTC buy takes part of it', async () => {
    const sell = (await clients.maker.newOrder('BTCUSDT', 'SELL', 'LIMIT',
      { timeInForce: 'GTC', quantity: '0.5', price: '40000', newClientOrderId: 'mk-sell-1' })).data;
    assert.equal(sell.symbol, 'BTCUSDT');
    assert.equal(sell.clientOrderId, 'mk-sell-1');
    assert.equal(sell.side, 'SELL');
    assert.equal(sell.type, 'LIMIT');
    assert.equal(sell.timeInForce, 'GTC');
    assert.equal(units(sell.origQty), units('0.5'));
    assert.equal(units(sell.price), units('40000'));
    checkAnswer(sell, 'NEW', '0');
    checkFills(sell, []);
    restingSell = sell.orderId;
    await checkBalances('maker', { BTC: '0.5' });

    const buy = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '0.2', price: '40000' })).data;
    const expected = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '40000', qty: '0.2', makerSide: 'SELL' })];
    checkFills(buy, expected);
    checkAnswer(buy, 'FILLED', '0.2');
    const b = await waitOrder('taker', 'BTCUSDT', buy.orderId, 'FILLED', '0.20000000');
    assert.equal(units(b.cummulativeQuoteQty), units('8000'));
    const s = await waitOrder('maker', 'BTCUSDT', restingSell, 'PARTIALLY_FILLED', '0.20000000');
    assert.equal(s.isWorking, true);
    // taker paid 0.1% of 0.2 BTC, maker 0.09% of 8000 USDT.
    assert.equal(expected[0].commission, units('0.0002'));
    await checkBalances('taker', { BTC: '0', USDT: '0' });
    await checkBalances('maker', { BTC: '0.3' });
  });

  test('IOC buy takes the rest and expires its remainder', async () => {
    const r = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'IOC', quantity: '0.5', price: '40000' })).data;
    const expected = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '40000', qty: '0.3', makerSide: 'SELL' })];
    checkFills(r, expected);
    checkAnswer(r, 'EXPIRED', '0.3');
    const o = await waitOrder('taker', 'BTCUSDT', r.orderId, 'EXPIRED', '0.30000000');
    assert.equal(o.timeInForce, 'IOC');
    await waitOrder('maker', 'BTCUSDT', restingSell, 'FILLED', '0.50000000');
    await checkBalances('taker', { BTC: '0', USDT: '0' });
    await checkBalances('maker', { BTC: '0', USDT: '0' });
  });

  test('FOK: expires whole when the book is short, fills whole when it is not', async () => {
    const sell = (await clients.maker.newOrder('BTCUSDT', 'SELL', 'LIMIT',
      { timeInForce: 'GTC', quantity: '0.1', price: '40500' })).data;
    const short = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'FOK', quantity: '0.2', price: '40500' })).data;
    checkFills(short, []);
    checkAnswer(short, 'EXPIRED', '0');
    await waitOrder('taker', 'BTCUSDT', short.orderId, 'EXPIRED', '0.00000000');
    const whole = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'FOK', quantity: '0.1', price: '40500' })).data;
    const expected = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '40500', qty: '0.1', makerSide: 'SELL' })];
    checkFills(whole, expected);
    checkAnswer(whole, 'FILLED', '0.1');
    await waitOrder('taker', 'BTCUSDT', whole.orderId, 'FILLED', '0.10000000');
    await waitOrder('maker', 'BTCUSDT', sell.orderId, 'FILLED', '0.10000000');
    await checkBalances('taker', { BTC: '0', USDT: '0' });
    await checkBalances('maker', { BTC: '0', USDT: '0' });
  });
});

describe('MARKET orders', () => {
  test('MARKET BUY by quantity walks two levels', async () => {
    await clients.maker.newOrder('BTCUSDT', 'SELL', 'LIMIT', { timeInForce: 'GTC', quantity: '0.1', price: '41000' });
    await clients.maker.newOrder('BTCUSDT', 'SELL', 'LIMIT', { timeInForce: 'GTC', quantity: '0.1', price: '42000' });
    const r = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'MARKET', { quantity: '0.15' })).data;
    assert.equal(r.type, 'MARKET');
    const expected = [
      fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '41000', qty: '0.1', makerSide: 'SELL' }),
      fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '42000', qty: '0.05', makerSide: 'SELL' }),
    ];
    checkFills(r, expected);
    checkAnswer(r, 'FILLED', '0.15');
    assert.equal(units(r.cummulativeQuoteQty), units('6200'));
    const o = await waitOrder('taker', 'BTCUSDT', r.orderId, 'FILLED', '0.15000000');
    assert.equal(units(o.cummulativeQuoteQty), units('6200'));
    await checkBalances('taker', { BTC: '0', USDT: '0' });
    await checkBalances('maker', { BTC: '0.05' });
  });

  test('MARKET BUY by quoteOrderQty', async () => {
    // 0.05 BTC left at 42000; 1050 USDT buys exactly 0.025.
    const r = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'MARKET', { quoteOrderQty: '1050' })).data;
    const expected = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '42000', qty: '0.025', makerSide: 'SELL' })];
    checkFills(r, expected);
    checkAnswer(r, 'FILLED', '0.025');
    const o = await waitOrder('taker', 'BTCUSDT', r.orderId, 'FILLED', '0.02500000');
    assert.equal(units(o.cummulativeQuoteQty), units('1050'));
    assert.equal(units(o.origQuoteOrderQty), units('1050'));
    await checkBalances('taker', { BTC: '0', USDT: '0' });
    await checkBalances('maker', { BTC: '0.025' });
  });

  test('MARKET SELL by quantity against a resting bid (maker fee on the bid)', async () => {
    const bid = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '0.1', price: '39000' })).data;
    checkAnswer(bid, 'NEW', '0');
    checkFills(bid, []);
    const r1 = (await clients.maker.newOrder('BTCUSDT', 'SELL', 'MARKET', { quantity: '0.04' })).data;
    const e1 = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '39000', qty: '0.04', makerSide: 'BUY' })];
    checkFills(r1, e1);
    checkAnswer(r1, 'FILLED', '0.04');
    await waitOrder('maker', 'BTCUSDT', r1.orderId, 'FILLED', '0.04000000');
    const r2 = (await clients.maker.newOrder('BTCUSDT', 'SELL', 'MARKET', { quantity: '0.01' })).data;
    const e2 = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '39000', qty: '0.01', makerSide: 'BUY' })];
    checkFills(r2, e2);
    checkAnswer(r2, 'FILLED', '0.01');
    await waitOrder('maker', 'BTCUSDT', r2.orderId, 'FILLED', '0.01000000');
    await waitOrder('taker', 'BTCUSDT', bid.orderId, 'PARTIALLY_FILLED', '0.05000000');
    // The bid keeps 0.05 * 39000 locked.
    await checkBalances('taker', { USDT: fmt(notional('39000', '0.05')) });
    await checkBalances('maker', { BTC: '0.025' });
  });

  // Binance: "quoteOrderQty ... the amount the user wants to spend (when
  // buying) or receive (when selling)". Runs on ETHUSDT between its own
  // users so that the rest of the file does not depend on its outcome.
  test('MARKET SELL by quoteOrderQty', {
    todo: 'server answers -1106 "Parameter \'quoteOrderQty\' sent when not required." for SELL; Binance accepts it',
  }, async () => {
    const bid = (await clients.quoter.newOrder('ETHUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '1', price: '2500' })).data;
    try {
      const r = (await clients.maker.newOrder('ETHUSDT', 'SELL', 'MARKET', { quoteOrderQty: '500' })).data;
      const e = [fill(ETHUSDT, { buyer: 'quoter', seller: 'maker', price: '2500', qty: '0.2', makerSide: 'BUY' })];
      checkFills(r, e);
      await waitOrder('maker', 'ETHUSDT', r.orderId, 'FILLED', '0.20000000');
    } finally {
      await clients.quoter.cancelOrder('ETHUSDT', { orderId: bid.orderId });
      await waitOrder('quoter', 'ETHUSDT', bid.orderId, 'CANCELED');
    }
    await checkBalances('quoter', { USDT: '0' });
    await checkBalances('maker', { ETH: '0' });
  });
});

describe('LIMIT_MAKER', () => {
  test('rests when it would not match', async () => {
    const r = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT_MAKER',
      { quantity: '0.01', price: '39500' })).data;
    // Binance answers ACK by default for types other than LIMIT/MARKET.
    assert.equal(r.type, undefined);
    const o = await waitOrder('taker', 'BTCUSDT', r.orderId, 'NEW');
    assert.equal(o.type, 'LIMIT_MAKER');
  });

  test('-2010 "Order would immediately match and take." when it would', async () => {
    // Best ask is the maker's 0.025 @ 42000.
    const e = await apiError(clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT_MAKER',
      { quantity: '0.01', price: '42000' }));
    assert.equal(e.status, 400);
    assert.deepEqual(e.data, { code: -2010, msg: 'Order would immediately match and take.' });
  });
});

describe('STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT', () => {
  test('accepted (ACK by default) and listed as open until cancelled', async () => {
    const info = (await clients.maker.exchangeInfo({ symbol: 'BTCUSDT' })).data.symbols[0];
    for (const [type, side, name, px] of [
      ['STOP_LOSS_LIMIT', 'BUY', 'taker', '45000'],
      ['TAKE_PROFIT_LIMIT', 'SELL', 'maker', '45000'],
    ]) {
      if (!info.orderTypes.includes(type)) continue;
      const cid = `stop-${type}`;
      const r = (await clients[name].newOrder('BTCUSDT', side, type,
        { timeInForce: 'GTC', quantity: '0.01', price: px, stopPrice: px, newClientOrderId: cid })).data;
      // Binance answers ACK by default for types other than LIMIT/MARKET.
      assert.deepEqual(Object.keys(r).sort(), ['clientOrderId', 'orderId', 'orderListId', 'symbol', 'transactTime']);
      assert.equal(r.clientOrderId, cid);
      const o = (await clients[name].getOrder('BTCUSDT', { origClientOrderId: cid })).data;
      assert.equal(o.status, 'NEW');
      assert.equal(o.type, type);
      assert.equal(units(o.stopPrice), units(px));
      const open = (await clients[name].openOrders({ symbol: 'BTCUSDT' })).data;
      assert.ok(open.some((x) => x.orderId === r.orderId), `${type} not in openOrders`);
      const c = (await clients[name].cancelOrder('BTCUSDT', { origClientOrderId: cid })).data;
      assert.equal(c.origClientOrderId, cid);
      assert.equal(c.status, 'CANCELED');
      await waitOrder(name, 'BTCUSDT', r.orderId, 'CANCELED');
    }
    await checkBalances('maker', { BTC: '0.025' });
    await checkBalances('taker', { USDT: fmt(notional('39000', '0.05') + notional('39500', '0.01')) });
  });
});

describe('cancels', () => {
  let byId;
  let byClientId;

  test('cancel by orderId', async () => {
    const r = (await clients.canceller.newOrder('ETHUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '1', price: '2000' })).data;
    byId = r.orderId;
    await checkBalances('canceller', { USDT: '2000' });
    const c = (await clients.canceller.cancelOrder('ETHUSDT', { orderId: byId })).data;
    assert.equal(c.orderId, byId);
    assert.equal(c.symbol, 'ETHUSDT');
    assert.equal(c.origClientOrderId, r.clientOrderId);
    assert.equal(c.status, 'CANCELED');
    const o = await waitOrder('canceller', 'ETHUSDT', byId, 'CANCELED', '0.00000000');
    assert.equal(o.isWorking, false);
    await checkBalances('canceller', { USDT: '0' });
  });

  test('cancel by origClientOrderId, with a newClientOrderId for the cancel', async () => {
    const r = (await clients.canceller.newOrder('ETHUSDT', 'SELL', 'LIMIT',
      { timeInForce: 'GTC', quantity: '2', price: '3000', newClientOrderId: 'cx-sell-1' })).data;
    byClientId = r.orderId;
    await checkBalances('canceller', { ETH: '2' });
    const c = (await clients.canceller.cancelOrder('ETHUSDT',
      { origClientOrderId: 'cx-sell-1', newClientOrderId: 'cx-cancel-1' })).data;
    assert.equal(c.orderId, byClientId);
    assert.equal(c.origClientOrderId, 'cx-sell-1');
    assert.equal(c.clientOrderId, 'cx-cancel-1');
    await waitOrder('canceller', 'ETHUSDT', byClientId, 'CANCELED');
    await checkBalances('canceller', { ETH: '0' });
  });

  test('cancel of a cancelled order: -2011 Unknown order sent.', async () => {
    const e = await apiError(clients.canceller.cancelOrder('ETHUSDT', { orderId: byId }));
    assert.equal(e.status, 400);
    assert.deepEqual(e.data, { code: -2011, msg: 'Unknown order sent.' });
  });

  test('query of an order that never existed: -2013 Order does not exist.', async () => {
    const e = await apiError(clients.canceller.getOrder('ETHUSDT', { orderId: 987654321 }));
    assert.equal(e.status, 400);
    assert.deepEqual(e.data, { code: -2013, msg: 'Order does not exist.' });
  });

  test('cancelOpenOrders cancels every open order of the symbol', async () => {
    const ids = [];
    for (const [side, px] of [['BUY', '1900'], ['BUY', '1800'], ['SELL', '3100']]) {
      ids.push((await clients.canceller.newOrder('ETHUSDT', side, 'LIMIT',
        { timeInForce: 'GTC', quantity: '1', price: px })).data.orderId);
    }
    assert.equal((await clients.canceller.openOrders({ symbol: 'ETHUSDT' })).data.length, 3);
    const r = (await clients.canceller.cancelOpenOrders('ETHUSDT')).data;
    assert.ok(Array.isArray(r));
    assert.deepEqual(r.map((x) => x.orderId).sort(), [...ids].sort());
    for (const x of r) {
      assert.equal(x.symbol, 'ETHUSDT');
      assert.equal(x.status, 'CANCELED');
    }
    assert.deepEqual((await clients.canceller.openOrders({ symbol: 'ETHUSDT' })).data, []);
    for (const id of ids) await waitOrder('canceller', 'ETHUSDT', id, 'CANCELED');
    await checkBalances('canceller', { USDT: '0', ETH: '0' });
    // Nothing left to cancel: Binance answers -2011.
    const e = await apiError(clients.canceller.cancelOpenOrders('ETHUSDT'));
    assert.equal(e.status, 400);
    assert.deepEqual(e.data, { code: -2011, msg: 'Unknown order sent.' });
  });
});

describe('queries', () => {
  test('getOrder by orderId and by origClientOrderId agree', async () => {
    const a = (await clients.maker.getOrder('BTCUSDT', { orderId: restingSell })).data;
    const b = (await clients.maker.getOrder('BTCUSDT', { origClientOrderId: 'mk-sell-1' })).data;
    assert.deepEqual(a, b);
    assert.equal(a.status, 'FILLED');
    assert.equal(a.clientOrderId, 'mk-sell-1');
    assert.equal(units(a.executedQty), units('0.5'));
    assert.equal(units(a.cummulativeQuoteQty), units('20000'));
    for (const k of ['time', 'updateTime', 'isWorking', 'stopPrice', 'icebergQty', 'workingTime', 'origQuoteOrderQty']) {
      assert.ok(k in a, `getOrder lacks ${k}`);
    }
  });

  test('openOrders: with and without symbol', async () => {
    const taker = (await clients.taker.openOrders({ symbol: 'BTCUSDT' })).data;
    assert.deepEqual(taker.map((o) => [o.side, o.type, o.price]).sort(),
      [['BUY', 'LIMIT', '39000.00000000'], ['BUY', 'LIMIT_MAKER', '39500.00000000']]);
    const all = (await clients.maker.openOrders()).data;
    assert.deepEqual(all.map((o) => [o.symbol, o.side, units(o.origQty) - units(o.executedQty)]),
      [['BTCUSDT', 'SELL', units('0.025')]]);
  });

  test('allOrders lists every order of the user and symbol', async () => {
    const all = (await clients.taker.allOrders('BTCUSDT')).data;
    const statuses = all.map((o) => o.status);
    // GTC, IOC, FOK x2, MARKET x2, bid, LIMIT_MAKER, STOP_LOSS_LIMIT.
    assert.equal(all.length, 9, JSON.stringify(statuses));
    assert.deepEqual(statuses.filter((s) => s === 'FILLED').length, 4);
    assert.deepEqual(statuses.filter((s) => s === 'EXPIRED').length, 2);
    const ids = all.map((o) => o.orderId);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'allOrders sorted by orderId');
    const c = (await clients.canceller.allOrders('ETHUSDT')).data;
    assert.equal(c.length, 5);
    assert.ok(c.every((o) => o.status === 'CANCELED'));
  });

  test('myTrades: prices, quantities and commissions of both sides', async () => {
    const t = (await clients.taker.myTrades('BTCUSDT')).data;
    const m = (await clients.maker.myTrades('BTCUSDT')).data;
    assert.equal(t.length, 8);
    assert.equal(m.length, 8);
    const sum = (xs, asset) => xs.filter((x) => x.commissionAsset === asset)
      .reduce((a, x) => a + units(x.commission), 0n);
    assert.equal(sum(t, 'BTC') + sum(m, 'BTC'), ledger.fees.get('BTC'));
    assert.equal(sum(t, 'USDT') + sum(m, 'USDT'), ledger.fees.get('USDT'));
    for (const x of [...t, ...m]) {
      assert.equal(x.symbol, 'BTCUSDT');
      assert.equal(units(x.quoteQty), notional(x.price, x.qty));
      assert.equal(x.commissionAsset, x.isBuyer ? 'BTC' : 'USDT');
      assert.ok(x.time > 0);
    }
    assert.ok(t.every((x) => x.isMaker === (x.price === '39000.00000000')), 'taker is maker only on its bid');
  });
});

// The market-data endpoints, order/test, cancelReplace and userDataStream,
// on ETHBTC, which nothing above traded: every number is derived here.
//   canceller asks 0.3 + 0.7 @ 0.05 and 2 @ 0.051; taker bids 0.5 @ 0.049
//   and 1 @ 0.048; then taker buys 1.5 @ 0.051: trades 1 (0.3 @ 0.05),
//   2 (0.7 @ 0.05), 3 (0.5 @ 0.051), one command.
describe('market data, order/test, cancelReplace, userDataStream (ETHBTC)', () => {
  const ETHBTC = SYMS.ETHBTC;
  const pub = () => spot('', '');
  const asks = [];
  const bids = [];
  let crossTime;
  let lastUpdateBefore;

  // [[price, qty]] as units, for the answer and the expectation alike.
  const lv = (rows) => rows.map(([p, q]) => [units(p), units(q)]);
  const levels = lv;

  test('depth shows the resting levels and a lastUpdateId', async () => {
    for (const [qty, price] of [['0.3', '0.05'], ['0.7', '0.05'], ['2', '0.051']]) {
      const r = (await clients.canceller.newOrder('ETHBTC', 'SELL', 'LIMIT', { timeInForce: 'GTC', quantity: qty, price })).data;
      checkAnswer(r, 'NEW', '0');
      asks.push(r.orderId);
    }
    for (const [qty, price] of [['0.5', '0.049'], ['1', '0.048']]) {
      const r = (await clients.taker.newOrder('ETHBTC', 'BUY', 'LIMIT', { timeInForce: 'GTC', quantity: qty, price })).data;
      checkAnswer(r, 'NEW', '0');
      bids.push(r.orderId);
    }
    const d = (await pub().depth('ETHBTC')).data;
    assert.deepEqual(Object.keys(d).sort(), ['asks', 'bids', 'lastUpdateId']);
    assert.ok(Number.isInteger(d.lastUpdateId) && d.lastUpdateId > 0, `lastUpdateId ${d.lastUpdateId}`);
    assert.deepEqual(levels(d.asks), lv([['0.05', '1'], ['0.051', '2']]));
    assert.deepEqual(levels(d.bids), lv([['0.049', '0.5'], ['0.048', '1']]));
    assert.equal(d.asks[0][0], '0.05000000');
    const d1 = (await pub().depth('ETHBTC', { limit: 1 })).data;
    assert.deepEqual(levels(d1.asks), lv([['0.05', '1']]));
    assert.deepEqual(levels(d1.bids), lv([['0.049', '0.5']]));
    lastUpdateBefore = d.lastUpdateId;
    const bt = (await pub().bookTicker('ETHBTC')).data;
    assert.equal(bt.symbol, 'ETHBTC');
    assert.deepEqual([bt.bidPrice, bt.bidQty, bt.askPrice, bt.askQty].map(units),
      ['0.049', '0.5', '0.05', '1'].map(units));
  });

  test('a cross: FULL fills, then trades, aggTrades, depth', async () => {
    const r = (await clients.taker.newOrder('ETHBTC', 'BUY', 'LIMIT', { timeInForce: 'GTC', quantity: '1.5', price: '0.051' })).data;
    const expected = [
      fill(ETHBTC, { buyer: 'taker', seller: 'canceller', price: '0.05', qty: '0.3', makerSide: 'SELL' }),
      fill(ETHBTC, { buyer: 'taker', seller: 'canceller', price: '0.05', qty: '0.7', makerSide: 'SELL' }),
      fill(ETHBTC, { buyer: 'taker', seller: 'canceller', price: '0.051', qty: '0.5', makerSide: 'SELL' }),
    ];
    checkFills(r, expected);
    checkAnswer(r, 'FILLED', '1.5');
    assert.equal(units(r.cummulativeQuoteQty), units('0.0755'));
    crossTime = r.transactTime;
    await waitOrder('canceller', 'ETHBTC', asks[0], 'FILLED', '0.30000000');
    await waitOrder('canceller', 'ETHBTC', asks[1], 'FILLED', '0.70000000');
    await waitOrder('canceller', 'ETHBTC', asks[2], 'PARTIALLY_FILLED', '0.50000000');
    await checkBalances('taker', { ETH: '0', BTC: fmt(notional('0.049', '0.5') + notional('0.048', '1')) });
    await checkBalances('canceller', { ETH: '1.5', USDT: '0' });

    const t = (await pub().trades('ETHBTC')).data;
    assert.deepEqual(t.map((x) => [x.id, units(x.price), units(x.qty), units(x.quoteQty), x.isBuyerMaker, x.isBestMatch]), [
      [1, units('0.05'), units('0.3'), units('0.015'), false, true],
      [2, units('0.05'), units('0.7'), units('0.035'), false, true],
      [3, units('0.051'), units('0.5'), units('0.0255'), false, true],
    ]);
    for (const x of t) assert.ok(Math.abs(x.time - crossTime) < 1000, `trade time ${x.time} vs ${crossTime}`);
    assert.deepEqual((await pub().trades('ETHBTC', { limit: 1 })).data.map((x) => x.id), [3]);

    const a = (await pub().aggTrades('ETHBTC')).data;
    assert.deepEqual(a.map((x) => [x.a, units(x.p), units(x.q), x.f, x.l, x.m, x.M]), [
      [1, units('0.05'), units('1'), 1, 2, false, true],
      [2, units('0.051'), units('0.5'), 3, 3, false, true],
    ]);
    assert.equal(a[0].T, t[0].time);
    assert.deepEqual((await pub().aggTrades('ETHBTC', { fromId: 2 })).data.map((x) => x.a), [2]);

    const d = (await pub().depth('ETHBTC')).data;
    assert.ok(d.lastUpdateId > lastUpdateBefore, `lastUpdateId ${d.lastUpdateId} after ${lastUpdateBefore}`);
    assert.deepEqual(levels(d.asks), lv([['0.051', '1.5']]));
    assert.deepEqual(levels(d.bids), lv([['0.049', '0.5'], ['0.048', '1']]));
  });

  // Binance: a trade has one id per symbol, the same in /api/v3/trades,
  // in both sides' myTrades and in the FULL fills' tradeId.
  test('myTrades ids are the public trade ids, the same for both sides', {
    todo: 'myTrades/fills ids are a per-partition counter (partition << 48 | n, shared by its users and symbols): the two sides of a trade have different ids, and neither is the public trade id',
  }, async () => {
    const pubIds = (await pub().trades('ETHBTC')).data.map((x) => x.id);
    const t = (await clients.taker.myTrades('ETHBTC')).data.map((x) => x.id);
    const c = (await clients.canceller.myTrades('ETHBTC')).data.map((x) => x.id);
    assert.deepEqual(t, pubIds);
    assert.deepEqual(c, pubIds);
  });

  test('klines: the 1m row of the cross', async () => {
    const k = (await pub().klines('ETHBTC', '1m')).data;
    const times = (await pub().trades('ETHBTC')).data.map((x) => x.time);
    const open = Math.floor(times[0] / 60000) * 60000;
    // All three trades come from one command, so they share one minute.
    assert.ok(times.every((x) => Math.floor(x / 60000) * 60000 === open));
    const row = k.find((x) => x[0] === open);
    assert.ok(row, `no 1m kline at ${open}: ${JSON.stringify(k)}`);
    assert.equal(row.length, 12);
    assert.equal(row[6], open + 59999);
    assert.deepEqual([row[1], row[2], row[3], row[4], row[5]].map(units),
      ['0.05', '0.051', '0.05', '0.051', '1.5'].map(units));
    assert.equal(units(row[7]), units('0.0755'));
    assert.equal(row[8], 3);
    assert.equal(units(row[9]), units('1.5'));
    assert.equal(units(row[10]), units('0.0755'));
    assert.equal(row[11], '0');
    const limited = (await pub().klines('ETHBTC', '1m', { limit: 1 })).data;
    assert.equal(limited.length, 1);
  });

  test('ticker 24hr / price / bookTicker, avgPrice', async () => {
    const t = (await pub().ticker24hr('ETHBTC')).data;
    assert.equal(t.symbol, 'ETHBTC');
    assert.equal(units(t.openPrice), units('0.05'));
    assert.equal(units(t.highPrice), units('0.051'));
    assert.equal(units(t.lowPrice), units('0.05'));
    assert.equal(units(t.lastPrice), units('0.051'));
    assert.equal(units(t.lastQty), units('0.5'));
    assert.equal(units(t.priceChange), units('0.001'));
    assert.equal(t.priceChangePercent, '2.000');
    assert.equal(units(t.volume), units('1.5'));
    assert.equal(units(t.quoteVolume), units('0.0755'));
    assert.equal(t.count, 3);
    assert.equal(t.firstId, 1);
    assert.equal(t.lastId, 3);
    assert.deepEqual([t.bidPrice, t.bidQty, t.askPrice, t.askQty].map(units), ['0.049', '0.5', '0.051', '1.5'].map(units));
    // 0.0755 / 1.5 = 0.0503333.. (8 decimals, truncated)
    assert.equal(units(t.weightedAvgPrice), units('0.05033333'));

    const mini = (await pub().ticker24hr('ETHBTC', [], 'MINI')).data;
    assert.equal(units(mini.lastPrice), units('0.051'));
    assert.equal(mini.priceChange, undefined);

    const p = (await pub().tickerPrice('ETHBTC')).data;
    assert.deepEqual(p, { symbol: 'ETHBTC', price: '0.05100000' });
    const ps = (await pub().tickerPrice('', ['ETHBTC', 'BTCUSDT'])).data;
    assert.deepEqual(ps.map((x) => x.symbol).sort(), ['BTCUSDT', 'ETHBTC']);
    // The last BTCUSDT trade was the MARKET SELL at 39000.
    assert.equal(units(ps.find((x) => x.symbol === 'BTCUSDT').price), units('39000'));

    const bt = (await pub().bookTicker('ETHBTC')).data;
    assert.deepEqual([bt.bidPrice, bt.bidQty, bt.askPrice, bt.askQty].map(units), ['0.049', '0.5', '0.051', '1.5'].map(units));

    const avg = (await pub().avgPrice('ETHBTC')).data;
    assert.equal(avg.mins, 5);
    assert.equal(units(avg.price), units('0.05033333'));
    assert.ok(Number.isInteger(avg.closeTime));
  });

  test('newOrderTest: {} and nothing placed; commission rates; the errors POST /order gives', async () => {
    const before = (await clients.taker.openOrders({ symbol: 'ETHBTC' })).data.length;
    const r = (await clients.taker.newOrderTest('ETHBTC', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '1', price: '0.051' })).data;
    assert.deepEqual(r, {});
    const c = (await clients.taker.newOrderTest('ETHBTC', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '1', price: '0.051', computeCommissionRates: true })).data;
    assert.deepEqual(c.standardCommissionForOrder, { maker: fmt(units(ETHBTC.makerFee)), taker: fmt(units(ETHBTC.takerFee)) });
    assert.deepEqual(c.taxCommissionForOrder, { maker: '0.00000000', taker: '0.00000000' });
    assert.equal((await clients.taker.openOrders({ symbol: 'ETHBTC' })).data.length, before);
    assert.deepEqual((await pub().trades('ETHBTC')).data.length, 3);
    const small = await apiError(clients.taker.newOrderTest('ETHBTC', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '0.001', price: '0.05' }));
    assert.deepEqual(small, { status: 400, data: { code: -1013, msg: 'Filter failure: NOTIONAL' } });
    const maker = await apiError(clients.taker.newOrderTest('ETHBTC', 'BUY', 'LIMIT_MAKER',
      { quantity: '1', price: '0.051' }));
    assert.deepEqual(maker, { status: 400, data: { code: -2010, msg: 'Order would immediately match and take.' } });
    await checkBalances('taker', { ETH: '0', BTC: fmt(notional('0.049', '0.5') + notional('0.048', '1')) });
  });

  test('cancelAndReplace: the bid moves; a refused cancel changes nothing', async () => {
    const r = (await clients.taker.cancelAndReplace('ETHBTC', 'BUY', 'LIMIT', 'STOP_ON_FAILURE',
      { cancelOrderId: bids[0], timeInForce: 'GTC', quantity: '0.5', price: '0.0495' })).data;
    assert.equal(r.cancelResult, 'SUCCESS');
    assert.equal(r.newOrderResult, 'SUCCESS');
    assert.equal(r.cancelResponse.orderId, bids[0]);
    assert.equal(r.cancelResponse.status, 'CANCELED');
    checkAnswer(r.newOrderResponse, 'NEW', '0');
    assert.deepEqual(r.newOrderResponse.fills, []);
    await waitOrder('taker', 'ETHBTC', bids[0], 'CANCELED', '0.00000000');
    bids[0] = r.newOrderResponse.orderId;
    let d = (await pub().depth('ETHBTC')).data;
    assert.deepEqual(levels(d.bids), lv([['0.0495', '0.5'], ['0.048', '1']]));
    await checkBalances('taker', { BTC: fmt(notional('0.0495', '0.5') + notional('0.048', '1')) });

    // A replace whose new order crosses: it takes 0.5 @ 0.051 from the ask.
    const x = (await clients.taker.cancelAndReplace('ETHBTC', 'BUY', 'LIMIT', 'STOP_ON_FAILURE',
      { cancelOrderId: bids[1], timeInForce: 'GTC', quantity: '0.5', price: '0.051' })).data;
    assert.equal(x.cancelResponse.status, 'CANCELED');
    const e = [fill(ETHBTC, { buyer: 'taker', seller: 'canceller', price: '0.051', qty: '0.5', makerSide: 'SELL' })];
    checkFills(x.newOrderResponse, e);
    checkAnswer(x.newOrderResponse, 'FILLED', '0.5');
    bids.pop();
    await waitOrder('canceller', 'ETHBTC', asks[2], 'PARTIALLY_FILLED', '1.00000000');
    d = (await pub().depth('ETHBTC')).data;
    assert.deepEqual(levels(d.bids), lv([['0.0495', '0.5']]));
    assert.deepEqual(levels(d.asks), lv([['0.051', '1']]));

    const bad = await apiError(clients.taker.cancelAndReplace('ETHBTC', 'BUY', 'LIMIT', 'STOP_ON_FAILURE',
      { cancelOrderId: 987654321, timeInForce: 'GTC', quantity: '0.5', price: '0.049' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.data.code, -2022);
    assert.equal(bad.data.data.cancelResult, 'FAILURE');
    assert.equal(bad.data.data.newOrderResult, 'NOT_ATTEMPTED');
    assert.deepEqual(bad.data.data.cancelResponse, { code: -2011, msg: 'Unknown order sent.' });
    assert.equal(bad.data.data.newOrderResponse, null);
    d = (await pub().depth('ETHBTC')).data;
    assert.deepEqual(levels(d.bids), lv([['0.0495', '0.5']]));
    await checkBalances('taker', { ETH: '0', BTC: fmt(notional('0.0495', '0.5')) });
    await checkBalances('canceller', { ETH: '1', USDT: '0' });
  });

  test('createListenKey / renewListenKey / closeListenKey', async () => {
    const k = (await clients.taker.createListenKey()).data.listenKey;
    assert.match(k, /^[A-Za-z0-9]{60}$/);
    assert.equal((await clients.taker.createListenKey()).data.listenKey, k, 'the active key again');
    assert.deepEqual((await clients.taker.renewListenKey(k)).data, {});
    const other = await apiError(clients.maker.renewListenKey(k));
    assert.deepEqual(other, { status: 400, data: { code: -1125, msg: 'This listenKey does not exist.' } });
    assert.deepEqual((await clients.taker.closeListenKey(k)).data, {});
    const closed = await apiError(clients.taker.renewListenKey(k));
    assert.deepEqual(closed, { status: 400, data: { code: -1125, msg: 'This listenKey does not exist.' } });
    const k2 = (await clients.taker.createListenKey()).data.listenKey;
    assert.notEqual(k2, k);
    assert.deepEqual((await clients.taker.closeListenKey(k2)).data, {});
  });

  test('cancel what is left on ETHBTC', async () => {
    assert.equal((await clients.taker.cancelOpenOrders('ETHBTC')).data.length, 1);
    assert.equal((await clients.canceller.cancelOpenOrders('ETHBTC')).data.length, 1);
    const d = (await pub().depth('ETHBTC')).data;
    assert.deepEqual([d.bids, d.asks], [[], []]);
    const bt = (await pub().bookTicker('ETHBTC')).data;
    assert.equal(units(bt.bidQty), 0n);
    assert.equal(units(bt.askQty), 0n);
  });
});

// Endpoints still to come get their own describe() here (each with the
// balance and conservation checks below still holding after it):
// TODO(e2e): the user data stream over WebSocket (/ws/<listenKey>).

describe('money conservation', () => {
  test('every user balance exact, and users + fees = deposits', async () => {
    // Cancel what is still open, so that nothing is locked.
    await clients.taker.cancelOpenOrders('BTCUSDT');
    await clients.maker.cancelOpenOrders('BTCUSDT');
    const totals = new Map();
    for (const name of Object.keys(users)) {
      const b = await checkBalances(name, { BTC: '0', USDT: '0', ETH: '0' });
      for (const [asset, x] of Object.entries(b)) {
        totals.set(asset, (totals.get(asset) || 0n) + units(x.free) + units(x.locked));
      }
    }
    for (const [asset, dep] of ledger.deposits) {
      const fees = ledger.fees.get(asset) || 0n;
      assert.equal(fmt((totals.get(asset) || 0n) + fees), fmt(dep), `${asset}: users ${fmt(totals.get(asset) || 0n)} + fees ${fmt(fees)}`);
    }
    assert.ok(ledger.fees.get('BTC') > 0n && ledger.fees.get('USDT') > 0n);
  });
});
