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

import connector from '@binance/connector';

import { symbolsOf } from './lib/config.mjs';
import { startExchange } from './lib/exchange.mjs';
import { Ledger, fmt, notional, units } from './lib/money.mjs';
import { waitFor } from './lib/util.mjs';

const { Spot } = connector;

const SYMS = symbolsOf();
const BTCUSDT = SYMS.BTCUSDT;
const ETHUSDT = SYMS.ETHUSDT;

let ex;
const ledger = new Ledger();
const users = {};    // name -> {userId, apiKey, secretKey}
const clients = {};  // name -> Spot

// The connector logs every error response to console.error; keep output quiet.
const quietLogger = { log: () => {}, error: () => {}, info: () => {}, warn: () => {}, debug: () => {} };

// A Spot whose failed calls throw an Error that shows the HTTP status and
// body (axios errors only say "Request failed with status code 400").
function spot(apiKey, secret) {
  const c = new Spot(apiKey, secret, { baseURL: ex.baseURL, logger: quietLogger });
  return new Proxy(c, {
    get(target, prop) {
      const v = target[prop];
      if (typeof v !== 'function') return v;
      return (...args) => v.apply(target, args).catch((e) => {
        if (!e.response) throw e;
        const err = new Error(`${String(prop)}(${JSON.stringify(args)}): HTTP ${e.response.status} ${JSON.stringify(e.response.data)}`);
        err.response = e.response;
        throw err;
      });
    },
  });
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

// Polls getOrder until `status` (and executedQty when given).
function waitOrder(name, symbol, orderId, status, executedQty) {
  return waitFor(() => order(name, symbol, orderId),
    (o) => o.status === status && (executedQty === undefined || o.executedQty === executedQty),
    { what: `order ${orderId} of ${name} ${status} ${executedQty ?? ''}` });
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
  // Settlement follows the engine's events, so poll until it has caught up.
  const b = await waitFor(() => balances(name), (got) => {
    for (const [asset, u] of want) {
      const g = got[asset];
      if (!g || units(g.free) + units(g.locked) !== u) return false;
    }
    for (const [asset, l] of Object.entries(locked)) if (!got[asset] || units(got[asset].locked) !== units(l)) return false;
    return true;
  }, { what: `balances of ${name} = ${JSON.stringify([...want].map(([a, u]) => [a, fmt(u)]))} locked ${JSON.stringify(locked)}` });
  return b;
}

// FULL response fills, checked only when the answer reports them.
// TODO(e2e): once RESULT/FULL answers wait for the engine, require
// `fills` to be present and equal `expected` (and drop the polling of the
// final state before checking balances).
function checkFills(resp, expected, sym) {
  if (!resp.fills || resp.fills.length === 0) return;
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
    assert.ok(['NEW'].includes(sell.status), sell.status);
    restingSell = sell.orderId;
    await checkBalances('maker', { BTC: '0.5' });

    const buy = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '0.2', price: '40000' })).data;
    const expected = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '40000', qty: '0.2', makerSide: 'SELL' })];
    checkFills(buy, expected, BTCUSDT);
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
    checkFills(r, expected, BTCUSDT);
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
    checkFills(short, [], BTCUSDT);
    await waitOrder('taker', 'BTCUSDT', short.orderId, 'EXPIRED', '0.00000000');
    const whole = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'FOK', quantity: '0.1', price: '40500' })).data;
    const expected = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '40500', qty: '0.1', makerSide: 'SELL' })];
    checkFills(whole, expected, BTCUSDT);
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
    checkFills(r, expected, BTCUSDT);
    const o = await waitOrder('taker', 'BTCUSDT', r.orderId, 'FILLED', '0.15000000');
    assert.equal(units(o.cummulativeQuoteQty), units('6200'));
    await checkBalances('taker', { BTC: '0', USDT: '0' });
    await checkBalances('maker', { BTC: '0.05' });
  });

  test('MARKET BUY by quoteOrderQty', async () => {
    // 0.05 BTC left at 42000; 1050 USDT buys exactly 0.025.
    const r = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'MARKET', { quoteOrderQty: '1050' })).data;
    const expected = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '42000', qty: '0.025', makerSide: 'SELL' })];
    checkFills(r, expected, BTCUSDT);
    const o = await waitOrder('taker', 'BTCUSDT', r.orderId, 'FILLED', '0.02500000');
    assert.equal(units(o.cummulativeQuoteQty), units('1050'));
    assert.equal(units(o.origQuoteOrderQty), units('1050'));
    await checkBalances('taker', { BTC: '0', USDT: '0' });
    await checkBalances('maker', { BTC: '0.025' });
  });

  test('MARKET SELL by quantity against a resting bid (maker fee on the bid)', async () => {
    const bid = (await clients.taker.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { timeInForce: 'GTC', quantity: '0.1', price: '39000' })).data;
    const r1 = (await clients.maker.newOrder('BTCUSDT', 'SELL', 'MARKET', { quantity: '0.04' })).data;
    const e1 = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '39000', qty: '0.04', makerSide: 'BUY' })];
    checkFills(r1, e1, BTCUSDT);
    await waitOrder('maker', 'BTCUSDT', r1.orderId, 'FILLED', '0.04000000');
    const r2 = (await clients.maker.newOrder('BTCUSDT', 'SELL', 'MARKET', { quantity: '0.01' })).data;
    const e2 = [fill(BTCUSDT, { buyer: 'taker', seller: 'maker', price: '39000', qty: '0.01', makerSide: 'BUY' })];
    checkFills(r2, e2, BTCUSDT);
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
      checkFills(r, e, ETHUSDT);
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
      const o = await waitFor(async () => (await clients[name].getOrder('BTCUSDT', { origClientOrderId: cid })).data,
        (x) => x.status === 'NEW', { what: `${type} NEW` });
      assert.equal(o.type, type);
      assert.equal(units(o.stopPrice), units(px));
      const open = (await clients[name].openOrders({ symbol: 'BTCUSDT' })).data;
      assert.ok(open.some((x) => x.orderId === r.orderId), `${type} not in openOrders`);
      const c = (await clients[name].cancelOrder('BTCUSDT', { origClientOrderId: cid })).data;
      assert.equal(c.origClientOrderId, cid);
      await waitFor(async () => (await clients[name].getOrder('BTCUSDT', { orderId: r.orderId })).data,
        (x) => x.status === 'CANCELED', { what: `${type} CANCELED` });
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
    await waitFor(async () => (await clients.canceller.openOrders({ symbol: 'ETHUSDT' })).data,
      (o) => o.length === 3, { what: '3 open orders' });
    const r = (await clients.canceller.cancelOpenOrders('ETHUSDT')).data;
    assert.ok(Array.isArray(r));
    assert.deepEqual(r.map((x) => x.orderId).sort(), [...ids].sort());
    for (const x of r) assert.equal(x.symbol, 'ETHUSDT');
    await waitFor(async () => (await clients.canceller.openOrders({ symbol: 'ETHUSDT' })).data,
      (o) => o.length === 0, { what: 'no open orders' });
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

// Endpoints still to come get their own describe() here (each with the
// balance and conservation checks below still holding after it):
// TODO(e2e): depth, trades, klines, ticker, order/test, cancelReplace,
// userDataStream (listenKey + /ws/<listenKey>).

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
