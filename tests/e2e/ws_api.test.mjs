// The WebSocket API (/ws-api/v3, BINANCE_COMPAT.md §6) of the real exchange
// binary, driven three ways:
//   1. @binance/connector 3.6.1 WebsocketAPI (signs percent-encoded values):
//      market data, orders filled between two users (FULL), queries,
//      cancels, cancelReplace, account/myTrades/allOrders against REST and
//      exact balances after fees, listenKeys, Binance's error codes.
//   2. ccxt 4.5.84 pro (signs raw values): createOrderWs / cancelOrderWs and
//      watchOrders / watchMyTrades / watchBalance over
//      userDataStream.subscribe.signature; watchTrades / watchOrderBook.
//   3. raw WebSocket (`ws`): the protocol's edges (ids, method prefix,
//      malformed messages, auth and signature forms, session.logon,
//      subscriptions and their events, returnRateLimits) and, on a second
//      exchange with 5 orders per second, the 429 -1015 of the 6th order.
// After every rejected request the balances (REST) are unchanged.
//
// Sections run in order, one exchange for the file (plus the rate-limited
// one); every wait polls with a generous timeout, never a fixed sleep.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import connector from '@binance/connector';
import ccxt from 'ccxt';
import WebSocket from 'ws';

import { symbolsOf } from './lib/config.mjs';
import { quietLogger } from './lib/connector.mjs';
import { startExchange } from './lib/exchange.mjs';
import { accountBalances, hmacHex, httpRequest, signedRequest } from './lib/http.mjs';
import { Ledger, fmt, units } from './lib/money.mjs';
import { waitFor } from './lib/util.mjs';

const { WebsocketAPI } = connector;
const BTCUSDT = symbolsOf().BTCUSDT;
const ANSWER_MS = 15000;  // a loaded machine may be slow; never a correctness sleep

let ex;
const ledger = new Ledger();
const closers = [];  // run in after()


before(async () => {
  ex = await startExchange();
});

after(async () => {
  for (const c of closers.reverse()) {
    try { await c(); } catch { /* closing anyway */ }
  }
  if (ex) await ex.stop();
});

async function makeUser(deposits) {
  const u = await ex.createUser();
  for (const [asset, amount] of Object.entries(deposits)) {
    await ex.credit(u.userId, asset, amount);
    ledger.deposit(u.userId, asset, amount);
  }
  return u;
}

// REST state of a user: balances (all assets of the ledger) and open orders.
async function restState(exchange, user) {
  const bal = await accountBalances(exchange.baseURL, user);
  const oo = await signedRequest(exchange.baseURL, user, 'GET', '/api/v3/openOrders', {});
  assert.equal(oo.status, 200, oo.text);
  return { bal, open: oo.json.map((o) => `${o.orderId}:${o.status}:${o.executedQty}`).sort() };
}

// The ledger's expectation for a user with nothing locked.
function expectFree(user, assets) {
  const bal = {};
  for (const a of assets) bal[a] = { free: fmt(ledger.bal(user.userId, a)), locked: '0.00000000' };
  return bal;
}

function pick(bal, assets) {
  const out = {};
  for (const a of assets) out[a] = bal[a] || { free: '0.00000000', locked: '0.00000000' };
  return out;
}

function fill({ buyer, seller, price, qty, makerSide }) {
  return ledger.trade(BTCUSDT, { buyer: buyer.userId, seller: seller.userId, price, qty, makerSide });
}

// ---------------------------------------------------------------------------
// A raw WebSocket API connection: answers by id, events by subscriptionId.

class WsConn {
  static async open(port, query = '') {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws-api/v3${query}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    const c = new WsConn(ws);
    closers.push(() => c.close());
    return c;
  }

  constructor(ws) {
    this.ws = ws;
    this.answers = [];  // every answer, in arrival order
    this.events = [];   // every {subscriptionId, event}
    this.texts = [];    // every frame as received
    this.nextId = 1;
    this.closed = false;
    ws.on('message', (m) => {
      const text = m.toString();
      this.texts.push(text);
      const msg = JSON.parse(text);
      if ('event' in msg && 'subscriptionId' in msg && !('id' in msg)) this.events.push(msg);
      else this.answers.push(msg);
    });
    ws.on('close', () => { this.closed = true; });
  }

  close() {
    if (this.closed) return undefined;
    return new Promise((resolve) => {
      this.ws.once('close', resolve);
      this.ws.close();
    });
  }

  // The first answer with this id (deepEqual), taken out of the list.
  async answer(id, what = `answer to id ${JSON.stringify(id)}`) {
    const key = JSON.stringify(id);
    await waitFor(() => this.answers.findIndex((a) => JSON.stringify(a.id) === key), (i) => i >= 0,
      { timeoutMs: ANSWER_MS, intervalMs: 5, what });
    const i = this.answers.findIndex((a) => JSON.stringify(a.id) === key);
    return this.answers.splice(i, 1)[0];
  }

  sendText(text) { this.ws.send(text); }

  // Sends {id, method, params} (params omitted when undefined); -> the answer.
  async request(method, params, { id } = {}) {
    const rid = id === undefined ? this.nextId++ : id;
    const msg = { id: rid, method };
    if (params !== undefined) msg.params = params;
    this.ws.send(JSON.stringify(msg));
    return this.answer(rid, `answer to ${method} (id ${JSON.stringify(rid)})`);
  }

  // A signed request for `user` (see signParams).
  signed(user, method, params = {}, opts = {}) {
    return this.request(method, signParams(user, params, opts), opts);
  }
}

// The WS API signature payload: every param but `signature`, sorted by name,
// name=value joined by '&', the value as its JSON text (strings unquoted);
// opts.encode: each value as encodeURIComponent (the connector's way).
function payloadOf(params, { encode = false } = {}) {
  return Object.keys(params).filter((k) => k !== 'signature').sort()
    .map((k) => `${k}=${encode ? encodeURIComponent(String(params[k])) : String(params[k])}`).join('&');
}

// Adds apiKey (unless opts.apiKey === null or given), timestamp (unless
// present) and signature (opts.signature: that string; false: none).
function signParams(user, params, { encode = false, signature, apiKey } = {}) {
  const p = { ...params };
  if (apiKey !== null) p.apiKey = apiKey === undefined ? user.apiKey : apiKey;
  if (!('timestamp' in p)) p.timestamp = Date.now();
  if (signature === false) return p;
  p.signature = typeof signature === 'string' ? signature : hmacHex(user.secretKey, payloadOf(p, { encode }));
  return p;
}

function assertError(a, status, code, msg) {
  assert.equal(a.status, status, JSON.stringify(a));
  assert.equal(a.result, undefined, JSON.stringify(a));
  assert.deepEqual(a.error, { code, msg }, JSON.stringify(a));
}

function assertOk(a) {
  assert.equal(a.status, 200, JSON.stringify(a));
  assert.equal(a.error, undefined, JSON.stringify(a));
  return a.result;
}

const limitBuy = (qty, price, extra = {}) => ({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC',
                                                quantity: qty, price, ...extra });
const limitSell = (qty, price, extra = {}) => ({ ...limitBuy(qty, price, extra), side: 'SELL' });

// ---------------------------------------------------------------------------
// 1. @binance/connector WebsocketAPI

// A connector WebsocketAPI whose answers are matched by the id we pass in the
// options (the connector sends options.id as the request id); calls without
// an options argument (start/ping/stopUserDataStream) take the next answer
// with an id we did not choose.
async function connectorClient(user) {
  const c = { byId: new Map(), other: [], n: 0 };
  let opened;
  const open = new Promise((r) => { opened = r; });
  c.api = new WebsocketAPI(user.apiKey, user.secretKey, {
    wsURL: `ws://127.0.0.1:${ex.port}/ws-api/v3`,
    logger: quietLogger,
    reconnectDelay: 600000,  // a close is a failure here, never retried
    callbacks: {
      open: () => opened(),
      message: (d) => {
        const m = JSON.parse(d);
        if (typeof m.id === 'string' && m.id.startsWith('t-')) c.byId.set(m.id, m);
        else c.other.push(m);
      },
    },
  });
  closers.push(() => c.api.disconnect());
  await open;
  // send(fn): fn(id) makes the connector call with {id} in its options.
  c.send = async (fn) => {
    const id = `t-${++c.n}`;
    fn(id);
    await waitFor(() => c.byId.has(id), Boolean, { timeoutMs: ANSWER_MS, intervalMs: 5, what: `connector answer ${id}` });
    const a = c.byId.get(id);
    c.byId.delete(id);
    return a;
  };
  c.sendNoId = async (fn) => {
    const before = c.other.length;
    fn();
    await waitFor(() => c.other.length, (n) => n > before, { timeoutMs: ANSWER_MS, intervalMs: 5, what: 'connector answer' });
    return c.other.splice(before, 1)[0];
  };
  return c;
}

describe('@binance/connector WebsocketAPI', () => {
  let alice;  // USDT, buys
  let bob;    // BTC, sells
  let ca;
  let cb;
  let buy;    // alice's resting buy

  test('connect; ping, time, exchangeInfo, orderbook answer as REST does', async () => {
    alice = await makeUser({ USDT: '10000' });
    bob = await makeUser({ BTC: '1' });
    ca = await connectorClient(alice);
    cb = await connectorClient(bob);

    const p = await ca.send((id) => ca.api.ping({ id }));
    assert.deepEqual(assertOk(p), {});
    assert.ok(Array.isArray(p.rateLimits), JSON.stringify(p));

    const t0 = Date.now();
    const t = assertOk(await ca.send((id) => ca.api.time({ id })));
    assert.ok(Math.abs(t.serverTime - t0) < 10000, JSON.stringify(t));

    const info = assertOk(await ca.send((id) => ca.api.exchangeInfo({ id })));
    const rest = (await httpRequest({ url: `${ex.baseURL}/api/v3/exchangeInfo` })).json;
    assert.deepEqual(info.symbols, rest.symbols);
    assert.deepEqual(info.rateLimits, rest.rateLimits);
    assert.ok(info.symbols.some((s) => s.symbol === 'BTCUSDT'));

    // An order rests so that the book is not empty.
    buy = assertOk(await ca.send((id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { id, timeInForce: 'GTC', quantity: '0.01', price: '40000', newClientOrderId: 'conn-buy-1' })));
    assert.equal(buy.status, 'NEW');
    assert.equal(buy.clientOrderId, 'conn-buy-1');
    assert.deepEqual(buy.fills, []);
    const book = assertOk(await ca.send((id) => ca.api.orderbook('BTCUSDT', { id, limit: 5 })));
    const restBook = (await httpRequest({ url: `${ex.baseURL}/api/v3/depth?symbol=BTCUSDT&limit=5` })).json;
    assert.deepEqual(book, restBook);
    assert.deepEqual(book.bids, [['40000.00000000', '0.01000000']]);
    assert.deepEqual(book.asks, []);
  });

  test('newOrder fills against another user (FULL); getOrder, openOrders, cancelOrder', async () => {
    const sell = assertOk(await cb.send((id) => cb.api.newOrder('BTCUSDT', 'SELL', 'LIMIT',
      { id, timeInForce: 'GTC', quantity: '0.004', price: '39990' })));
    const f = fill({ buyer: alice, seller: bob, price: '40000', qty: '0.004', makerSide: 'BUY' });
    assert.equal(sell.status, 'FILLED');
    assert.equal(sell.executedQty, '0.00400000');
    assert.equal(sell.cummulativeQuoteQty, '160.00000000');
    assert.equal(sell.fills.length, 1);
    assert.deepEqual({ ...sell.fills[0], tradeId: 0 },
                     { price: '40000.00000000', qty: '0.00400000', commission: fmt(f.sellerFee),
                       commissionAsset: 'USDT', tradeId: 0 });
    assert.equal(fmt(f.sellerFee), '0.16000000');

    const q = assertOk(await ca.send((id) => ca.api.getOrder('BTCUSDT', { id, orderId: buy.orderId })));
    assert.equal(q.status, 'PARTIALLY_FILLED');
    assert.equal(q.executedQty, '0.00400000');
    assert.equal(q.cummulativeQuoteQty, '160.00000000');
    assert.equal(q.clientOrderId, 'conn-buy-1');

    const open = assertOk(await ca.send((id) => ca.api.openOrders('BTCUSDT', { id })));
    assert.deepEqual(open.map((o) => [o.orderId, o.status]), [[buy.orderId, 'PARTIALLY_FILLED']]);

    const c = assertOk(await ca.send((id) => ca.api.cancelOrder('BTCUSDT', { id, origClientOrderId: 'conn-buy-1' })));
    assert.equal(c.orderId, buy.orderId);
    assert.equal(c.status, 'CANCELED');
    assert.equal(c.executedQty, '0.00400000');
    assert.equal(c.origClientOrderId, 'conn-buy-1');
    assert.deepEqual(assertOk(await ca.send((id) => ca.api.openOrders('BTCUSDT', { id }))), []);

    // myTrades: alice was the maker, bob's trade is his fill.
    const at = assertOk(await ca.send((id) => ca.api.myTrades('BTCUSDT', { id })));
    assert.equal(at.length, 1);
    assert.equal(at[0].orderId, buy.orderId);
    assert.equal(at[0].isMaker, true);
    assert.equal(at[0].isBuyer, true);
    assert.equal(at[0].qty, '0.00400000');
    assert.equal(at[0].commission, fmt(f.buyerFee));
    assert.equal(at[0].commission, '0.00000360');
    assert.equal(at[0].commissionAsset, 'BTC');
    const bt = assertOk(await cb.send((id) => cb.api.myTrades('BTCUSDT', { id })));
    assert.deepEqual(bt.map((t) => [t.id, t.commission, t.isMaker]), [[sell.fills[0].tradeId, '0.16000000', false]]);
    const restTrades = await signedRequest(ex.baseURL, alice, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' });
    assert.deepEqual(at, restTrades.json);

    // allOrders (orderHistory) as REST.
    const all = assertOk(await ca.send((id) => ca.api.orderHistory('BTCUSDT', { id })));
    const restAll = await signedRequest(ex.baseURL, alice, 'GET', '/api/v3/allOrders', { symbol: 'BTCUSDT' });
    assert.deepEqual(all, restAll.json);
    assert.deepEqual(all.map((o) => o.status), ['CANCELED']);
  });

  // Binance gives a trade one id, the same in both sides' myTrades, their
  // executionReports (t) and the public trades: the engine numbers each
  // symbol's trades (the buyer, user 1, is on the other order-service
  // partition from the seller).
  test('one trade, one id on both sides (myTrades = public trades)', async () => {
    const at = assertOk(await ca.send((id) => ca.api.myTrades('BTCUSDT', { id })));
    const bt = assertOk(await cb.send((id) => cb.api.myTrades('BTCUSDT', { id })));
    const pub = assertOk(await ca.send((id) => ca.api.trades('BTCUSDT', { id })));
    assert.equal(pub.length, 1);
    assert.deepEqual([at[0].id, bt[0].id], [pub[0].id, pub[0].id]);
  });

  test('account: exact balances after fees, equal to REST', async () => {
    for (const [user, client] of [[alice, ca], [bob, cb]]) {
      const acct = assertOk(await client.send((id) => client.api.account({ id })));
      const rest = await signedRequest(ex.baseURL, user, 'GET', '/api/v3/account', {});
      assert.deepEqual({ ...acct, updateTime: 0 }, { ...rest.json, updateTime: 0 });
      const bal = {};
      for (const b of acct.balances) bal[b.asset] = { free: b.free, locked: b.locked };
      assert.deepEqual(pick(bal, ['USDT', 'BTC']), expectFree(user, ['USDT', 'BTC']));
    }
    assert.equal(fmt(ledger.bal(alice.userId, 'USDT')), '9840.00000000');
    assert.equal(fmt(ledger.bal(alice.userId, 'BTC')), '0.00399640');
    assert.equal(fmt(ledger.bal(bob.userId, 'USDT')), '159.84000000');
    assert.equal(fmt(ledger.bal(bob.userId, 'BTC')), '0.99600000');
  });

  test('testNewOrder and cancelReplaceOrder; cancelOpenOrders', async () => {
    const before = await restState(ex, alice);
    assert.deepEqual(assertOk(await ca.send((id) => ca.api.testNewOrder('BTCUSDT', 'BUY', 'LIMIT',
      { id, timeInForce: 'GTC', quantity: '0.001', price: '30000' }))), {});
    assert.deepEqual(await restState(ex, alice), before);

    const o = assertOk(await ca.send((id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { id, timeInForce: 'GTC', quantity: '0.001', price: '30000' })));
    const r = assertOk(await ca.send((id) => ca.api.cancelReplaceOrder('BTCUSDT', 'STOP_ON_FAILURE', 'BUY', 'LIMIT',
      { id, cancelOrderId: o.orderId, timeInForce: 'GTC', quantity: '0.002', price: '31000' })));
    assert.equal(r.cancelResult, 'SUCCESS');
    assert.equal(r.newOrderResult, 'SUCCESS');
    assert.equal(r.cancelResponse.orderId, o.orderId);
    assert.equal(r.cancelResponse.status, 'CANCELED');
    assert.equal(r.newOrderResponse.status, 'NEW');
    assert.equal(r.newOrderResponse.price, '31000.00000000');
    assert.equal(r.newOrderResponse.origQty, '0.00200000');
    const mid = await accountBalances(ex.baseURL, alice);
    assert.equal(mid.USDT.locked, '62.00000000');
    assert.equal(units(mid.USDT.free) + units(mid.USDT.locked), ledger.bal(alice.userId, 'USDT'));

    const o2 = assertOk(await ca.send((id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { id, timeInForce: 'GTC', quantity: '0.001', price: '29000' })));
    const all = assertOk(await ca.send((id) => ca.api.cancelOpenOrders('BTCUSDT', { id })));
    assert.deepEqual(all.map((x) => [x.orderId, x.status]).sort(),
                     [[r.newOrderResponse.orderId, 'CANCELED'], [o2.orderId, 'CANCELED']].sort());
    assert.deepEqual(await restState(ex, alice), before);
  });

  test('signatures over percent-encoded values: a signed value with space, : and /', async () => {
    // The connector signs encodeURIComponent(value); an extra (ignored)
    // param makes the two forms differ, so only the encoded one matches.
    const o = assertOk(await ca.send((id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT',
      { id, timeInForce: 'GTC', quantity: '0.001', price: '30000', newClientOrderId: 'enc-1', memo: 'a b:c/d é' })));
    assert.equal(o.status, 'NEW');
    assert.equal(o.clientOrderId, 'enc-1');
    const q = assertOk(await ca.send((id) => ca.api.getOrder('BTCUSDT', { id, origClientOrderId: 'enc-1', memo: 'x/y z' })));
    assert.equal(q.orderId, o.orderId);
    const c = assertOk(await ca.send((id) => ca.api.cancelOrder('BTCUSDT', { id, orderId: o.orderId, memo: '1:2' })));
    assert.equal(c.status, 'CANCELED');
    // A JSON number and a boolean are signed as their text.
    const acct = await ca.send((id) => ca.api.account({ id, recvWindow: 10000, omitZeroBalances: true }));
    assertOk(acct);
    assert.deepEqual(acct.result.balances.map((b) => b.asset).sort(), ['BTC', 'USDT']);
  });

  test('errors: -2010, -2011, -1121, -1013, -1102, -2013 as Binance; nothing changes', async () => {
    const before = await restState(ex, alice);
    const cases = [
      [(id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT', { id, timeInForce: 'GTC', quantity: '1', price: '40000' }),
       400, -2010, 'Account has insufficient balance for requested action.'],
      [(id) => ca.api.cancelOrder('BTCUSDT', { id, orderId: 123456789 }), 400, -2011, 'Unknown order sent.'],
      [(id) => ca.api.getOrder('BTCUSDT', { id, orderId: 123456789 }), 400, -2013, 'Order does not exist.'],
      [(id) => ca.api.newOrder('NOPEUSDT', 'BUY', 'LIMIT', { id, timeInForce: 'GTC', quantity: '0.001', price: '30000' }),
       400, -1121, 'Invalid symbol.'],
      [(id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT', { id, timeInForce: 'GTC', quantity: '0.000001', price: '30000' }),
       400, -1013, 'Filter failure: LOT_SIZE'],
      [(id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT', { id, timeInForce: 'GTC', quantity: '0.001', price: '30000.001' }),
       400, -1013, 'Filter failure: PRICE_FILTER'],
      [(id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT', { id, timeInForce: 'GTC', quantity: '0.0001', price: '30000' }),
       400, -1013, 'Filter failure: NOTIONAL'],
      [(id) => ca.api.newOrder('BTCUSDT', 'BUY', 'LIMIT', { id, timeInForce: 'GTC', quantity: '0.001' }),
       400, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."],
      [(id) => ca.api.cancelOpenOrders('NOPEUSDT', { id }), 400, -1121, 'Invalid symbol.'],
    ];
    for (const [fn, status, code, msg] of cases) {
      const a = await ca.send(fn);
      assertError(a, status, code, msg);
      assert.ok(Array.isArray(a.rateLimits), JSON.stringify(a));
      assert.deepEqual(await restState(ex, alice), before, `after ${code} ${msg}`);
    }
    // A connector with a wrong secret: -1022; an unknown key: -2015.
    const wrong = await connectorClient({ apiKey: alice.apiKey, secretKey: 'x'.repeat(64) });
    assertError(await wrong.send((id) => wrong.api.account({ id })), 400, -1022, 'Signature for this request is not valid.');
    const unknown = await connectorClient({ apiKey: 'A'.repeat(64), secretKey: 'x'.repeat(64) });
    assertError(await unknown.send((id) => unknown.api.account({ id })), 401, -2015,
                'Invalid API-key, IP, or permissions for action.');
    assert.deepEqual(await restState(ex, alice), before);
  });

  test('startUserDataStream / pingUserDataStream / stopUserDataStream (API key only)', async () => {
    const s = assertOk(await ca.sendNoId(() => ca.api.startUserDataStream()));
    assert.match(s.listenKey, /^[A-Za-z0-9]{60}$/);
    const rest = await httpRequest({ method: 'POST', url: `${ex.baseURL}/api/v3/userDataStream`,
                                     headers: { 'X-MBX-APIKEY': alice.apiKey } });
    assert.equal(rest.json.listenKey, s.listenKey, 'POST returns the active key');
    assert.deepEqual(assertOk(await ca.sendNoId(() => ca.api.pingUserDataStream(s.listenKey))), {});
    assert.deepEqual(assertOk(await ca.sendNoId(() => ca.api.stopUserDataStream(s.listenKey))), {});
    assertError(await ca.sendNoId(() => ca.api.pingUserDataStream(s.listenKey)), 400, -1125,
                'This listenKey does not exist.');
  });
});

// ---------------------------------------------------------------------------
// 2. ccxt pro

function pro(user) {
  const api = `${ex.baseURL}/api/v3`;
  const c = new ccxt.pro.binance({
    apiKey: user.apiKey,
    secret: user.secretKey,
    urls: { api: { public: api, private: api, v1: api, sapi: `${ex.baseURL}/sapi/v1`,
                   ws: { spot: `ws://127.0.0.1:${ex.port}/ws`,
                         'ws-api': { spot: `ws://127.0.0.1:${ex.port}/ws-api/v3` } } } },
    options: { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false },
    enableRateLimit: false,
    newUpdates: false,  // watch* resolve with the whole cache
  });
  closers.push(() => c.close());
  return c;
}

// ccxt numbers -> exact 8-decimal strings.
const n8 = (x) => fmt(units(Number(x).toFixed(8)));

describe('ccxt pro: createOrderWs, cancelOrderWs, watchOrders / watchMyTrades / watchBalance', () => {
  let carol;  // USDT, buys, watches
  let dave;   // BTC, sells
  let pc;
  let pd;
  const watched = {};

  test('loadMarkets, subscribe (userDataStream.subscribe.signature), watch*', async () => {
    carol = await makeUser({ USDT: '5000' });
    dave = await makeUser({ BTC: '0.5' });
    pc = pro(carol);
    pd = pro(dave);
    for (const c of [pc, pd]) {
      await c.loadHttpProxyAgent();  // ccxt refuses ws:// without it (§3.3)
      await c.loadMarkets();
    }
    // The subscription is confirmed ({"subscriptionId":0}) before any trade.
    await pc.ensureUserDataStreamWsSubscribeSignature('spot');
    watched.orders = pc.watchOrders('BTC/USDT');
    watched.trades = pc.watchMyTrades('BTC/USDT');
    watched.balance = pc.watchBalance();
    for (const p of Object.values(watched)) p.catch(() => {});  // awaited below
  });

  let buy;
  let sell;
  test('createOrderWs: a resting buy, a sell that fills it partly (FULL); cancelOrderWs', async () => {
    buy = await pc.createOrderWs('BTC/USDT', 'limit', 'buy', 0.01, 40000);
    assert.equal(buy.status, 'open', JSON.stringify(buy.info));
    assert.equal(buy.filled, 0);
    sell = await pd.createOrderWs('BTC/USDT', 'limit', 'sell', 0.006, 39000);
    const f = fill({ buyer: carol, seller: dave, price: '40000', qty: '0.006', makerSide: 'BUY' });
    assert.equal(sell.status, 'closed', JSON.stringify(sell.info));
    assert.equal(n8(sell.filled), '0.00600000');
    assert.equal(n8(sell.cost), '240.00000000');
    assert.equal(sell.trades.length, 1);
    assert.equal(n8(sell.trades[0].price), '40000.00000000');
    assert.equal(n8(sell.trades[0].fee.cost), fmt(f.sellerFee));
    assert.equal(sell.trades[0].fee.currency, 'USDT');
    const c = await pc.cancelOrderWs(buy.id, 'BTC/USDT');
    assert.equal(c.status, 'canceled', JSON.stringify(c.info));
    assert.equal(n8(c.filled), '0.00600000');
    assert.equal(c.id, buy.id);
  });

  test('ccxt error classes over the WS API', async () => {
    const before = await restState(ex, carol);
    await assert.rejects(pc.createOrderWs('BTC/USDT', 'limit', 'buy', 1, 40000), ccxt.InsufficientFunds);
    await assert.rejects(pc.cancelOrderWs('123456789', 'BTC/USDT'), ccxt.OrderNotFound);
    // -1013 NOTIONAL (3 USDT < 5) maps to BadRequest; ccxt has no local check for it.
    await assert.rejects(pc.createOrderWs('BTC/USDT', 'limit', 'buy', 0.0001, 30000),
                         (e) => e instanceof ccxt.BadRequest && /Filter failure: NOTIONAL/.test(e.message));
    assert.deepEqual(await restState(ex, carol), before);
  });

  test('watched orders, trades and balances equal REST exactly', async () => {
    // Each watch resolves at its first update; the cache then fills up.
    await Promise.all(Object.values(watched));
    const restOrder = (await signedRequest(ex.baseURL, carol, 'GET', '/api/v3/order',
                                           { symbol: 'BTCUSDT', orderId: buy.id })).json;
    const restTrades = (await signedRequest(ex.baseURL, carol, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' })).json;
    const acct = await accountBalances(ex.baseURL, carol);
    assert.equal(restOrder.status, 'CANCELED');
    assert.equal(restTrades.length, 1);

    const orders = await waitFor(() => pc.orders ? pc.orders.filter((o) => o.id === buy.id) : [],
      (os) => os.length === 1 && os[0].status === 'canceled', { timeoutMs: ANSWER_MS, what: 'watched order canceled' });
    const o = orders[0];
    assert.equal(o.symbol, 'BTC/USDT');
    assert.equal(o.side, 'buy');
    assert.equal(o.type, 'limit');
    assert.equal(n8(o.price), restOrder.price);
    assert.equal(n8(o.amount), restOrder.origQty);
    assert.equal(n8(o.filled), restOrder.executedQty);
    assert.equal(n8(o.cost), restOrder.cummulativeQuoteQty);
    assert.equal(n8(o.remaining), fmt(units(restOrder.origQty) - units(restOrder.executedQty)));
    assert.equal(o.clientOrderId, restOrder.clientOrderId);
    // Only carol's orders (dave's sell is not hers).
    assert.ok(pc.orders.every((x) => x.id !== sell.id));

    const trades = await waitFor(() => pc.myTrades ? [...pc.myTrades] : [], (ts) => ts.length === 1,
      { timeoutMs: ANSWER_MS, what: 'watched trade' });
    const t = trades[0];
    const rt = restTrades[0];
    assert.equal(t.id, String(rt.id));
    assert.equal(t.order, String(rt.orderId));
    assert.equal(t.side, 'buy');
    assert.equal(t.takerOrMaker, 'maker');
    assert.equal(n8(t.price), rt.price);
    assert.equal(n8(t.amount), rt.qty);
    assert.equal(n8(t.cost), rt.quoteQty);
    assert.equal(n8(t.fee.cost), rt.commission);
    assert.equal(t.fee.currency, rt.commissionAsset);
    assert.equal(t.timestamp, rt.time);

    const expected = expectFree(carol, ['USDT', 'BTC']);
    assert.deepEqual(pick(acct, ['USDT', 'BTC']), expected);
    const bal = await waitFor(() => pc.balance && pc.balance.spot, (b) => b && b.USDT && b.BTC
        && n8(b.USDT.free) === expected.USDT.free && n8(b.BTC.free) === expected.BTC.free && n8(b.USDT.used) === '0.00000000',
      { timeoutMs: ANSWER_MS, what: 'watched balance = REST' });
    for (const a of ['USDT', 'BTC']) {
      assert.equal(n8(bal[a].free), acct[a].free, a);
      assert.equal(n8(bal[a].used), acct[a].locked, a);
    }
  });

  test('watchTrades and watchOrderBook (market streams)', async () => {
    const trades = pc.watchTrades('BTC/USDT');
    const book = pc.watchOrderBook('BTC/USDT');
    trades.catch(() => {});
    book.catch(() => {});
    // Subscriptions are acknowledged asynchronously: repeat a trade until the
    // stream shows one (each trade is booked in the ledger).
    const seen = await waitFor(async () => {
      await pd.createOrderWs('BTC/USDT', 'limit', 'sell', 0.001, 41000);
      const b = await pc.createOrderWs('BTC/USDT', 'limit', 'buy', 0.001, 41000);
      assert.equal(b.status, 'closed');
      fill({ buyer: carol, seller: dave, price: '41000', qty: '0.001', makerSide: 'SELL' });
      return pc.trades && pc.trades['BTC/USDT'] ? [...pc.trades['BTC/USDT']] : [];
    }, (ts) => ts.length > 0, { timeoutMs: ANSWER_MS, intervalMs: 200, what: 'a watched trade' });
    await trades;
    const last = seen.at(-1);
    assert.equal(n8(last.price), '41000.00000000');
    assert.equal(n8(last.amount), '0.00100000');
    assert.equal(last.side, 'buy');  // the taker bought

    // A resting ask shows in the watched book.
    await pd.createOrderWs('BTC/USDT', 'limit', 'sell', 0.002, 45000);
    await book;
    const ob = await waitFor(() => pc.orderbooks && pc.orderbooks['BTC/USDT'],
      (b) => b && b.asks && b.asks.length > 0 && b.asks[0][0] === 45000, { timeoutMs: ANSWER_MS, what: 'ask in the book' });
    assert.equal(ob.asks[0][1], 0.002);
    const c = await pd.cancelAllOrders('BTC/USDT');
    assert.equal(c.length, 1);
    const acct = await accountBalances(ex.baseURL, carol);
    assert.deepEqual(pick(acct, ['USDT', 'BTC']), expectFree(carol, ['USDT', 'BTC']));
    const dacct = await accountBalances(ex.baseURL, dave);
    assert.deepEqual(pick(dacct, ['USDT', 'BTC']), expectFree(dave, ['USDT', 'BTC']));
  });
});

// ---------------------------------------------------------------------------
// 3. raw WebSocket: the protocol's edges

describe('raw WebSocket: protocol edges', () => {
  let erin;   // USDT
  let frank;  // BTC
  let w;

  test('ids echoed as sent (int, string, null, none); v3/ prefix; ping, time', async () => {
    erin = await makeUser({ USDT: '2000' });
    frank = await makeUser({ BTC: '0.2' });
    w = await WsConn.open(ex.port);
    assert.equal((await w.request('ping', {}, { id: 42 })).id, 42);
    assert.equal((await w.request('ping', {}, { id: 'abc-XYZ_1' })).id, 'abc-XYZ_1');
    assert.equal((await w.request('ping', {}, { id: null })).id, null);
    const big = 2 ** 40 + 3;
    assert.equal((await w.request('ping', {}, { id: big })).id, big);
    w.sendText('{"method":"ping"}');
    assert.deepEqual(assertOk(await w.answer(null)), {});
    assert.equal(w.texts.at(-1).startsWith('{"id":null,"status":200,"result":{}'), true, w.texts.at(-1));
    assert.deepEqual(assertOk(await w.request('v3/ping')), {});
    const t = assertOk(await w.request('v3/time', {}));
    assert.equal(typeof t.serverTime, 'number');
    // The answer's exact text: id as sent, status, result, rateLimits.
    w.sendText('{"id":"s1","method":"ping","params":{}}');
    await w.answer('s1');
    assert.match(w.texts.at(-1), /^\{"id":"s1","status":200,"result":\{\},"rateLimits":\[\{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":\d+\}\]\}$/);
  });

  test('malformed requests: -1135, unknown method -1020; the connection stays usable', async () => {
    const before = await restState(ex, erin);
    w.sendText('{"id":1,');
    assertError(await w.answer(null), 400, -1135, 'Invalid JSON Request');
    w.sendText('not json');
    assertError(await w.answer(null), 400, -1135, 'Invalid JSON Request');
    w.sendText('[1,2]');
    assertError(await w.answer(null), 400, -1135, 'Invalid JSON Request');
    w.sendText('{"id":7,"method":"ping","params":[1]}');
    assertError(await w.answer(7), 400, -1135, "Invalid 'params' in JSON request; expected an object.");
    w.sendText('{"id":8,"method":"ping","params":"x"}');
    assertError(await w.answer(8), 400, -1135, "Invalid 'params' in JSON request; expected an object.");
    w.sendText('{"id":9,"params":{}}');  // no method (the id was read first)
    assertError(await w.answer(9), 400, -1135, 'Invalid JSON Request');
    w.sendText(`{"id":"${'x'.repeat(65)}","method":"ping"}`);
    assertError(await w.answer(null), 400, -1135, 'Invalid JSON Request');
    w.sendText('{"id":{"a":1},"method":"ping"}');
    assertError(await w.answer(null), 400, -1135, 'Invalid JSON Request');
    w.sendText('{"id":1.5,"method":"ping"}');
    assertError(await w.answer(null), 400, -1135, 'Invalid JSON Request');
    w.sendText('{"id":true,"method":"ping"}');
    assertError(await w.answer(null), 400, -1135, 'Invalid JSON Request');
    w.sendText('{"id":13,"method":7}');
    assertError(await w.answer(13), 400, -1135, 'Invalid JSON Request');
    assertError(await w.request('order.nope', {}, { id: 10 }), 400, -1020, 'This operation is not supported.');
    assertError(await w.request('v3/', {}, { id: 11 }), 400, -1020, 'This operation is not supported.');
    // An order.place with a malformed signature is refused before anything happens.
    assertError(await w.signed(erin, 'order.place', limitBuy('0.001', '30000'), { signature: 'zz' }),
                400, -1022, 'Signature for this request is not valid.');
    assert.deepEqual(assertOk(await w.request('ping', {}, { id: 12 })), {});
    assert.equal(w.closed, false);
    assert.deepEqual(await restState(ex, erin), before);
  });

  test('auth: missing apiKey -1102, unknown -2015, bad signature -1022, stale / future timestamp -1021', async () => {
    const before = await restState(ex, erin);
    const order = limitBuy('0.001', '30000');
    assertError(await w.signed(erin, 'order.place', order, { apiKey: null }), 400, -1102,
                "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.");
    assertError(await w.signed(erin, 'order.place', order, { apiKey: 'B'.repeat(64) }), 401, -2015,
                'Invalid API-key, IP, or permissions for action.');
    assertError(await w.signed(erin, 'order.place', order, { signature: false }), 400, -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
    assertError(await w.signed(erin, 'order.place', order, { signature: hmacHex(frank.secretKey, 'x') }), 400, -1022,
                'Signature for this request is not valid.');
    // Signed with another user's secret.
    const p = signParams(erin, order);
    p.signature = hmacHex(frank.secretKey, payloadOf(p));
    assertError(await w.request('order.place', p), 400, -1022, 'Signature for this request is not valid.');
    // A param changed after signing.
    const q = signParams(erin, order);
    q.price = '30001';
    assertError(await w.request('order.place', q), 400, -1022, 'Signature for this request is not valid.');
    assertError(await w.signed(erin, 'order.place', { ...order, timestamp: Date.now() - 120000 }), 400, -1021,
                'Timestamp for this request is outside of the recvWindow.');
    assertError(await w.signed(erin, 'order.place', { ...order, timestamp: Date.now() - 20000, recvWindow: 10000 }),
                400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    assertError(await w.signed(erin, 'order.place', { ...order, timestamp: Date.now() + 30000 }), 400, -1021,
                "Timestamp for this request was 1000ms ahead of the server's time.");
    assertError(await w.signed(erin, 'account.status', { recvWindow: 70000 }), 400, -1131,
                'recvWindow must be less than 60000');
    assert.deepEqual(await restState(ex, erin), before);
  });

  test('signatures over raw and over percent-encoded values are both accepted', async () => {
    // memo is signed but ignored by order.place (as ccxt's stray params are).
    const extra = { memo: 'a b:c/d?e=f&g' };
    const raw = assertOk(await w.signed(erin, 'order.place', limitBuy('0.001', '30000', { ...extra, newClientOrderId: 'raw-1' })));
    const enc = assertOk(await w.signed(erin, 'order.place', limitBuy('0.001', '30000', { ...extra, newClientOrderId: 'enc-1' }),
                                        { encode: true }));
    assert.equal(raw.status, 'NEW');
    assert.equal(enc.status, 'NEW');
    assert.equal(raw.clientOrderId, 'raw-1');
    assert.equal(enc.clientOrderId, 'enc-1');
    // JSON numbers and booleans are signed as their JSON text.
    const numeric = assertOk(await w.signed(erin, 'order.status',
      { symbol: 'BTCUSDT', orderId: raw.orderId, recvWindow: 10000, returnRateLimits: true }));
    assert.equal(numeric.orderId, raw.orderId);
    // Neither form of a different value.
    const p = signParams(erin, { symbol: 'BTCUSDT', orderId: enc.orderId, ...extra });
    p.memo = 'a b:c/d?e=f&h';
    assertError(await w.request('order.cancel', p), 400, -1022, 'Signature for this request is not valid.');
    const all = assertOk(await w.signed(erin, 'openOrders.cancelAll', { symbol: 'BTCUSDT' }));
    assert.deepEqual(all.map((o) => o.origClientOrderId).sort(), ['enc-1', 'raw-1']);
    const bal = await accountBalances(ex.baseURL, erin);
    assert.deepEqual(pick(bal, ['USDT']), expectFree(erin, ['USDT']));
  });

  test('returnRateLimits:false omits rateLimits; ?returnRateLimits=false on the URL too', async () => {
    const a = await w.request('ping', { returnRateLimits: false });
    assert.deepEqual(Object.keys(a).sort(), ['id', 'result', 'status']);
    const b = await w.signed(erin, 'account.status', { returnRateLimits: false });
    assertOk(b);
    assert.equal(b.rateLimits, undefined);
    const e = await w.signed(erin, 'order.place', limitBuy('1', '30000', { returnRateLimits: false }));
    assertError(e, 400, -2010, 'Account has insufficient balance for requested action.');
    assert.equal(e.rateLimits, undefined);
    const c = await w.signed(erin, 'order.test', limitBuy('0.001', '30000'));
    assert.deepEqual(c.rateLimits.map((r) => r.rateLimitType), ['REQUEST_WEIGHT']);
    const d = await w.signed(erin, 'order.place', limitBuy('1', '30000'));
    assert.deepEqual(d.rateLimits.map((r) => `${r.rateLimitType}/${r.interval}/${r.intervalNum}`),
                     ['REQUEST_WEIGHT/MINUTE/1', 'ORDERS/SECOND/10', 'ORDERS/DAY/1']);

    const q = await WsConn.open(ex.port, '?returnRateLimits=false');
    const s = await q.request('session.status');
    assert.equal(assertOk(s).returnRateLimits, false);
    assert.equal(s.rateLimits, undefined);
    const t = await q.request('time', { returnRateLimits: true });
    assert.ok(Array.isArray(t.rateLimits), JSON.stringify(t));
    await q.close();
  });

  test('session.logon, then signed methods without apiKey/signature; status; logout', async () => {
    const s = await WsConn.open(ex.port);
    const st0 = assertOk(await s.request('session.status'));
    assert.equal(st0.apiKey, null);
    assert.equal(st0.authorizedSince, null);
    assert.equal(st0.userDataStream, false);
    // Logon is signed: a bad signature is refused and changes nothing.
    assertError(await s.signed(erin, 'session.logon', {}, { signature: 'ab'.repeat(32) }), 400, -1022,
                'Signature for this request is not valid.');
    assert.equal(assertOk(await s.request('session.status')).apiKey, null);
    assertError(await s.request('order.place', { ...limitBuy('0.001', '30000'), timestamp: Date.now() }), 400, -1102,
                "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.");

    const t0 = Date.now();
    const lo = assertOk(await s.signed(erin, 'session.logon', {}));
    assert.equal(lo.apiKey, erin.apiKey);
    assert.ok(lo.authorizedSince >= lo.connectedSince && Math.abs(lo.authorizedSince - t0) < 10000, JSON.stringify(lo));
    assert.equal(lo.returnRateLimits, true);
    assert.equal(lo.userDataStream, false);
    assert.equal(typeof lo.serverTime, 'number');
    assert.deepEqual(assertOk(await s.request('session.status')).apiKey, erin.apiKey);

    const o = assertOk(await s.request('order.place', { ...limitBuy('0.001', '30000'), timestamp: Date.now() }));
    assert.equal(o.status, 'NEW');
    // Still checked: the timestamp.
    assertError(await s.request('order.status', { symbol: 'BTCUSDT', orderId: o.orderId }), 400, -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
    assertError(await s.request('order.status', { symbol: 'BTCUSDT', orderId: o.orderId, timestamp: Date.now() - 120000 }),
                400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    const q = assertOk(await s.request('order.status', { symbol: 'BTCUSDT', orderId: o.orderId, timestamp: Date.now() }));
    assert.equal(q.status, 'NEW');
    // A request naming another key acts for that key (signed as usual).
    const fo = assertOk(await s.signed(frank, 'openOrders.status', { symbol: 'BTCUSDT' }));
    assert.deepEqual(fo, []);
    const acct = assertOk(await s.request('account.status', { timestamp: Date.now() }));
    assert.equal(acct.uid, erin.userId);
    const c = assertOk(await s.request('order.cancel', { symbol: 'BTCUSDT', orderId: o.orderId, timestamp: Date.now() }));
    assert.equal(c.status, 'CANCELED');

    const out = assertOk(await s.request('session.logout'));
    assert.equal(out.apiKey, null);
    assert.equal(out.authorizedSince, null);
    assertError(await s.request('account.status', { timestamp: Date.now() }), 400, -1102,
                "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.");
    assertError(await s.request('userDataStream.subscribe'), 401, -1002, 'You are not authorized to execute this request.');
    await s.close();
    const bal = await accountBalances(ex.baseURL, erin);
    assert.deepEqual(pick(bal, ['USDT']), expectFree(erin, ['USDT']));
  });

  test('subscriptions: -1002 without logon; ids per connection; NEW / TRADE / CANCELED and positions; unsubscribe stops them', async () => {
    const s = await WsConn.open(ex.port);
    assertError(await s.request('userDataStream.subscribe', {}), 401, -1002,
                'You are not authorized to execute this request.');
    assert.deepEqual(assertOk(await s.request('session.subscriptions')), []);
    assertOk(await s.signed(erin, 'session.logon', {}));
    assert.deepEqual(assertOk(await s.request('userDataStream.subscribe')), { subscriptionId: 0 });
    assert.deepEqual(assertOk(await s.signed(erin, 'userDataStream.subscribe.signature', {})), { subscriptionId: 1 });
    assert.deepEqual(assertOk(await s.request('session.subscriptions')), [{ subscriptionId: 0 }, { subscriptionId: 1 }]);
    assert.equal(assertOk(await s.request('session.status')).userDataStream, true);
    assertError(await s.request('userDataStream.unsubscribe', { subscriptionId: 5 }), 400, -1130,
                "Data sent for parameter 'subscriptionId' is not valid.");
    assert.deepEqual(assertOk(await s.request('userDataStream.unsubscribe', { subscriptionId: 0 })), {});
    assert.deepEqual(assertOk(await s.request('session.subscriptions')), [{ subscriptionId: 1 }]);
    // A subscription with a bad signature is refused.
    assertError(await s.signed(erin, 'userDataStream.subscribe.signature', {}, { signature: 'cd'.repeat(32) }), 400, -1022,
                'Signature for this request is not valid.');
    // frank's own subscription on another connection, without logon.
    const fs = await WsConn.open(ex.port);
    assert.deepEqual(assertOk(await fs.signed(frank, 'userDataStream.subscribe.signature', {})), { subscriptionId: 0 });

    // erin buys 0.005 @ 40000 (rests); frank sells 0.002 into it; erin cancels the rest.
    const buy = assertOk(await w.signed(erin, 'order.place', limitBuy('0.005', '40000', { newClientOrderId: 'sub-buy' })));
    const sell = assertOk(await w.signed(frank, 'order.place', limitSell('0.002', '40000')));
    const f = fill({ buyer: erin, seller: frank, price: '40000', qty: '0.002', makerSide: 'BUY' });
    assert.equal(sell.status, 'FILLED');
    const c = assertOk(await w.signed(erin, 'order.cancel', { symbol: 'BTCUSDT', orderId: buy.orderId }));
    assert.equal(c.status, 'CANCELED');
    const acct = await accountBalances(ex.baseURL, erin);
    assert.deepEqual(pick(acct, ['USDT', 'BTC']), expectFree(erin, ['USDT', 'BTC']));

    const reports = () => s.events.filter((e) => e.event.e === 'executionReport');
    await waitFor(() => reports().map((e) => e.event.x), (xs) => xs.includes('CANCELED'),
      { timeoutMs: ANSWER_MS, what: 'erin CANCELED report' });
    const lastPos = () => {
      const m = {};
      for (const e of s.events) if (e.event.e === 'outboundAccountPosition') for (const b of e.event.B) m[b.a] = { free: b.f, locked: b.l };
      return m;
    };
    await waitFor(lastPos, (m) => m.USDT && m.BTC && m.USDT.free === acct.USDT.free && m.BTC.free === acct.BTC.free
                                  && m.USDT.locked === acct.USDT.locked,
                  { timeoutMs: ANSWER_MS, what: 'the last position = REST account' });
    assert.deepEqual(lastPos(), pick(acct, ['USDT', 'BTC']));
    // Everything came wrapped with subscriptionId 1 only, as {subscriptionId, event}.
    for (const e of s.events) {
      assert.deepEqual(Object.keys(e).sort(), ['event', 'subscriptionId']);
      assert.equal(e.subscriptionId, 1);
    }
    assert.ok(s.texts.some((t) => t.startsWith('{"subscriptionId":1,"event":{"e":"executionReport"')));
    const rs = reports().map((e) => e.event);
    assert.deepEqual(rs.map((r) => `${r.x}/${r.X}`), ['NEW/NEW', 'TRADE/PARTIALLY_FILLED', 'CANCELED/CANCELED']);
    assert.ok(rs.every((r) => r.i === buy.orderId && r.s === 'BTCUSDT' && r.S === 'BUY'));
    assert.equal(rs[0].c, 'sub-buy');
    assert.equal(rs[2].C, 'sub-buy');
    const tr = rs[1];
    const myTrades = (await signedRequest(ex.baseURL, erin, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' })).json;
    const t = myTrades.find((x) => x.orderId === buy.orderId);
    assert.equal(tr.t, t.id);
    assert.equal(tr.l, '0.00200000');
    assert.equal(tr.L, '40000.00000000');
    assert.equal(tr.n, fmt(f.buyerFee));
    assert.equal(tr.N, 'BTC');
    assert.equal(tr.m, true);
    assert.equal(tr.z, '0.00200000');
    assert.equal(tr.Z, '80.00000000');
    assert.equal(rs[2].z, '0.00200000');
    // frank's events went to frank's connection only.
    await waitFor(() => fs.events.filter((e) => e.event.e === 'executionReport').map((e) => e.event.X),
      (xs) => xs.includes('FILLED'), { timeoutMs: ANSWER_MS, what: 'frank FILLED report' });
    assert.ok(fs.events.every((e) => e.subscriptionId === 0 && (e.event.e !== 'executionReport' || e.event.i === sell.orderId)));
    assert.ok(s.events.every((e) => e.event.e !== 'executionReport' || e.event.i === buy.orderId));

    // Unsubscribe all: erin's next order reaches a fresh subscriber, not s.
    assert.deepEqual(assertOk(await s.request('userDataStream.unsubscribe')), {});
    assert.deepEqual(assertOk(await s.request('session.subscriptions')), []);
    assert.equal(assertOk(await s.request('session.status')).userDataStream, false);
    const seen = s.events.length;
    const other = await WsConn.open(ex.port);
    assert.deepEqual(assertOk(await other.signed(erin, 'userDataStream.subscribe.signature', {})), { subscriptionId: 0 });
    const o2 = assertOk(await w.signed(erin, 'order.place', limitBuy('0.001', '30000')));
    await waitFor(() => other.events.filter((e) => e.event.e === 'outboundAccountPosition').length, (n) => n > 0,
      { timeoutMs: ANSWER_MS, what: 'the fresh subscriber\'s events' });
    assert.ok(other.events.some((e) => e.event.e === 'executionReport' && e.event.i === o2.orderId && e.event.x === 'NEW'));
    assertOk(await s.request('ping'));  // a round trip on s after the events went out
    assert.equal(s.events.length, seen, JSON.stringify(s.events.slice(seen)));
    assertOk(await w.signed(erin, 'order.cancel', { symbol: 'BTCUSDT', orderId: o2.orderId }));
    for (const x of [s, fs, other]) await x.close();
  });

  test('listenKey methods need only the API key', async () => {
    const st = assertOk(await w.request('userDataStream.start', { apiKey: erin.apiKey }));
    assert.match(st.listenKey, /^[A-Za-z0-9]{60}$/);
    assertError(await w.request('userDataStream.start', {}), 400, -1102,
                "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.");
    assertError(await w.request('userDataStream.ping', { apiKey: erin.apiKey, listenKey: 'y'.repeat(60) }), 400, -1125,
                'This listenKey does not exist.');
    assert.deepEqual(assertOk(await w.request('userDataStream.ping', { apiKey: erin.apiKey, listenKey: st.listenKey })), {});
    assert.deepEqual(assertOk(await w.request('userDataStream.stop', { apiKey: erin.apiKey, listenKey: st.listenKey })), {});
  });
});

describe('raw WebSocket: rate limit (5 orders per second)', () => {
  let rx;
  let gus;
  before(async () => {
    rx = await startExchange({ env: { XC_RATE_LIMIT_ORDERS_PER_SEC: '5' } });
  });
  after(async () => {
    if (rx) await rx.stop();
  });

  // Waits (polling) until the clock is early in a second after `afterSecond`,
  // so that a burst most likely falls in one limiter window (windows are
  // whole seconds since the epoch; client and server share the clock).
  const earlyInSecond = (afterSecond = 0) => waitFor(() => Date.now(),
    (t) => Math.floor(t / 1000) > afterSecond && t % 1000 < 150, { intervalMs: 2, what: 'early in a fresh second' });

  test('the 6th order.place in one second gets 429 -1015; nothing changes; the next second admits again', async () => {
    gus = await rx.createFundedUser({ USDT: '1000' });
    const s = await WsConn.open(rx.port);
    let accepted = 0;
    let result;
    let lastSecond = 0;
    for (let attempt = 0; attempt < 5 && !result; ++attempt) {
      await earlyInSecond(lastSecond);
      const msgs = [];
      for (let i = 0; i < 6; ++i) {
        const id = `rl-${attempt}-${i}`;
        msgs.push({ id, text: JSON.stringify({ id, method: 'order.place', params: signParams(gus, limitBuy('0.001', '10000')) }) });
      }
      // A query in the same burst: not a new order, admitted.
      const qid = `rq-${attempt}`;
      const query = JSON.stringify({ id: qid, method: 'openOrders.status', params: signParams(gus, { symbol: 'BTCUSDT' }) });
      const sent = Date.now();
      for (const m of msgs) s.sendText(m.text);
      s.sendText(query);
      const answers = [];
      for (const m of msgs) answers.push(await s.answer(m.id));
      assertOk(await s.answer(qid));
      accepted += answers.filter((a) => a.status === 200).length;
      lastSecond = Math.floor(Date.now() / 1000);
      // A burst that crossed a second boundary (machine stalls) is all
      // admitted; try again in a fresh second.
      if (answers.every((a) => a.status === 200) && Math.floor(sent / 1000) !== Math.floor(Date.now() / 1000)) continue;
      result = answers;
    }
    assert.ok(result, 'every burst crossed a second boundary');
    assert.deepEqual(result.map((a) => a.status), [200, 200, 200, 200, 200, 429], JSON.stringify(result));
    const rej = result[5];
    assertError(rej, 429, -1015, 'Too many new orders; current limit is 5 orders per 1 SECOND.');
    assert.ok(Array.isArray(rej.rateLimits), JSON.stringify(rej));

    // Only the admitted orders rest and lock funds.
    const open = await signedRequest(rx.baseURL, gus, 'GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' });
    assert.equal(open.json.length, accepted);
    const bal = await accountBalances(rx.baseURL, gus);
    assert.deepEqual(bal.USDT, { free: fmt(units('1000') - units('10') * BigInt(accepted)),
                                 locked: fmt(units('10') * BigInt(accepted)) });

    // A fresh second admits orders again.
    const burstSecond = Math.floor(Date.now() / 1000);
    await waitFor(() => Math.floor(Date.now() / 1000), (sec) => sec > burstSecond, { intervalMs: 2, what: 'a new second' });
    assertOk(await s.signed(gus, 'order.place', limitBuy('0.001', '10000')));
    assertOk(await s.signed(gus, 'openOrders.cancelAll', { symbol: 'BTCUSDT' }));
    assert.deepEqual((await accountBalances(rx.baseURL, gus)).USDT, { free: '1000.00000000', locked: '0.00000000' });
    await s.close();
  });
});
