// The legacy user data stream against the real exchange binary: a listenKey
// from POST /api/v3/userDataStream, a WebSocket on /ws/<listenKey> (the `ws`
// package, as @binance/connector's WebsocketStream.userData uses), then a
// deposit, partial fills between two users, a cancel and an IOC expiry.
// The user's events must add up: per order one NEW first, the sum of TRADE
// `l` = executedQty (GET /api/v3/order), the sum of `n` = its commissions
// (myTrades), the last `X` = its status; the last outboundAccountPosition of
// each asset = GET /api/v3/account; the deposit is one balanceUpdate.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import WebSocket from 'ws';

import { startExchange } from './lib/exchange.mjs';
import { accountBalances, httpRequest, signedRequest } from './lib/http.mjs';
import { units } from './lib/money.mjs';
import { waitFor } from './lib/util.mjs';

let ex;
let alice;  // buyer, listens
let bob;    // seller
let ws;
const events = [];

function connect(url) {
  return new Promise((resolve, reject) => {
    const s = new WebSocket(url);
    s.once('open', () => resolve(s));
    s.once('error', reject);
    s.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

async function order(user, params) {
  const r = await signedRequest(ex.baseURL, user, 'POST', '/api/v3/order', params);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

before(async () => {
  ex = await startExchange();
  alice = await ex.createFundedUser({ USDT: '10000' });
  bob = await ex.createFundedUser({ BTC: '1' });
});

after(async () => {
  if (ws) ws.close();
  if (ex) await ex.stop();
});

test('listenKey stream carries executionReports, positions and balanceUpdates that add up', async () => {
  const lk = await httpRequest({ method: 'POST', url: `${ex.baseURL}/api/v3/userDataStream`,
                                 headers: { 'X-MBX-APIKEY': alice.apiKey } });
  assert.equal(lk.status, 200, lk.text);
  const key = lk.json.listenKey;
  assert.match(key, /^[A-Za-z0-9]{60}$/);

  // An unknown key is refused (HTTP 404 on the upgrade).
  await assert.rejects(connect(`ws://127.0.0.1:${ex.port}/ws/${'x'.repeat(60)}`), /404/);

  ws = await connect(`ws://127.0.0.1:${ex.port}/ws/${key}`);
  ws.on('message', (m) => events.push(JSON.parse(m.toString())));

  // A deposit.
  await ex.credit(alice.userId, 'USDT', '100');
  // Alice's GTC buy rests; Bob's two sells fill it partly; Alice cancels the rest.
  const buy = await order(alice, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC',
                                   quantity: '0.01', price: '40000' });
  await order(bob, { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC',
                     quantity: '0.004', price: '40000' });
  await order(bob, { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC',
                     quantity: '0.003', price: '39990' });
  const c = await signedRequest(ex.baseURL, alice, 'DELETE', '/api/v3/order',
                                { symbol: 'BTCUSDT', orderId: String(buy.orderId) });
  assert.equal(c.status, 200, c.text);
  // Bob rests 0.002; Alice's IOC for 0.005 takes it and expires the rest.
  await order(bob, { symbol: 'BTCUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC',
                     quantity: '0.002', price: '40100' });
  const ioc = await order(alice, { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'IOC',
                                   quantity: '0.005', price: '40200' });
  assert.equal(ioc.status, 'EXPIRED');
  assert.equal(ioc.executedQty, '0.00200000');

  // Wait until the stream has reported the end of both orders and the last
  // position matches the account.
  const acct = await accountBalances(ex.baseURL, alice);
  const lastPos = () => {
    const m = {};
    for (const e of events) if (e.e === 'outboundAccountPosition') for (const b of e.B) m[b.a] = { free: b.f, locked: b.l };
    return m;
  };
  await waitFor(() => lastPos(), (m) => m.USDT?.free === acct.USDT.free && m.BTC?.free === acct.BTC.free
                                          && m.USDT?.locked === acct.USDT.locked,
                { what: 'the last position to match the account', timeoutMs: 5000 });
  assert.deepEqual(lastPos(), { USDT: acct.USDT, BTC: acct.BTC });

  // Every event has its type and time; no events of other users.
  for (const e of events) {
    assert.ok(['executionReport', 'outboundAccountPosition', 'balanceUpdate'].includes(e.e), JSON.stringify(e));
    assert.equal(typeof e.E, 'number');
  }
  const bu = events.filter((e) => e.e === 'balanceUpdate');
  assert.equal(bu.length, 1);
  assert.equal(bu[0].a, 'USDT');
  assert.equal(bu[0].d, '100.00000000');

  const reports = events.filter((e) => e.e === 'executionReport');
  const byOrder = new Map();
  for (const r of reports) {
    if (!byOrder.has(r.i)) byOrder.set(r.i, []);
    byOrder.get(r.i).push(r);
  }
  assert.deepEqual([...byOrder.keys()].sort(), [buy.orderId, ioc.orderId].sort());
  const trades = (await signedRequest(ex.baseURL, alice, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' })).json;
  for (const [id, rs] of byOrder) {
    const q = await signedRequest(ex.baseURL, alice, 'GET', '/api/v3/order', { symbol: 'BTCUSDT', orderId: String(id) });
    assert.equal(q.status, 200, q.text);
    assert.equal(rs[0].x, 'NEW');
    assert.equal(rs.filter((r) => r.x === 'NEW').length, 1);
    const fills = rs.filter((r) => r.x === 'TRADE');
    const sumL = fills.reduce((s, r) => s + units(r.l), 0n);
    const sumN = fills.reduce((s, r) => s + units(r.n), 0n);
    assert.equal(sumL, units(q.json.executedQty), `order ${id}`);
    const mine = trades.filter((t) => t.orderId === id);
    assert.equal(fills.length, mine.length);
    assert.equal(sumN, mine.reduce((s, t) => s + units(t.commission), 0n));
    assert.deepEqual(fills.map((r) => r.t).sort(), mine.map((t) => t.id).sort());
    assert.equal(rs.at(-1).X, q.json.status);
    assert.equal(rs.at(-1).z, q.json.executedQty);
    assert.equal(rs.at(-1).Z, q.json.cummulativeQuoteQty);
  }
  // One id per trade, as on Binance: Bob's side of each trade, the public
  // trade list and Alice's TRADE reports show the same ids.
  const bobTrades = (await signedRequest(ex.baseURL, bob, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' })).json;
  const pub = (await httpRequest({ method: 'GET', url: `${ex.baseURL}/api/v3/trades?symbol=BTCUSDT` })).json;
  const ids = (l) => l.map((t) => t.id).sort((a, b) => a - b);
  assert.equal(trades.length, 3);
  assert.deepEqual(ids(bobTrades), ids(trades));
  assert.deepEqual(ids(pub), ids(trades));
  assert.deepEqual(reports.filter((r) => r.x === 'TRADE').map((r) => r.t).sort((a, b) => a - b), ids(trades));
  const gtc = byOrder.get(buy.orderId);
  assert.deepEqual(gtc.map((r) => `${r.x}/${r.X}`),
                   ['NEW/NEW', 'TRADE/PARTIALLY_FILLED', 'TRADE/PARTIALLY_FILLED', 'CANCELED/CANCELED']);
  assert.equal(gtc.at(-1).C, gtc[0].c);
  assert.equal(gtc[1].m, true);  // Alice's resting order was the maker
  assert.deepEqual(byOrder.get(ioc.orderId).map((r) => `${r.x}/${r.X}`),
                   ['NEW/NEW', 'TRADE/PARTIALLY_FILLED', 'EXPIRED/EXPIRED']);
  assert.equal(byOrder.get(ioc.orderId)[1].m, false);
});
