// Market-data WebSocket streams of the real exchange binary, followed with
// @binance/connector's WebsocketStream (BINANCE_COMPAT.md §1.2, §4):
//   1. known trades placed through REST (the connector's Spot) and the exact
//      payloads of @trade, @aggTrade, @bookTicker, @kline_1m, @miniTicker,
//      @ticker, @depth5@100ms and @depth@100ms, raw (/ws/<stream> and
//      SUBSCRIBE) and combined (/stream?streams=, {"stream","data"});
//   2. a long random run (several users placing and cancelling LIMIT orders
//      around a mid price, with partial crosses, from concurrent loops)
//      while clients keep a local book with Binance's diff-depth recipe
//      (§4.2) on @depth@100ms, @depth and @depth@1000ms: no gap, no bad
//      first event, and at the end every rebuilt book equals GET
//      /api/v3/depth exactly; @depth20@100ms equals its top 20.
// Health and readiness during shutdown: health.test.mjs.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import connector from '@binance/connector';

import { quietLogger, spotClient } from './lib/connector.mjs';
import { startExchange } from './lib/exchange.mjs';
import { httpRequest } from './lib/http.mjs';
import { fmt, notional, units } from './lib/money.mjs';
import { sleep, waitFor } from './lib/util.mjs';

const { WebsocketStream } = connector;

// Under the sanitizers everything is several times slower: fewer operations.
const SCALE = process.env.XC_TEST_SCALE === 'sanitizer' ? 0.25 : 1;
const RANDOM_OPS = Math.round(5000 * SCALE);
const RANDOM_USERS = 4;
const LOOPS_PER_USER = 2;
// On a loaded machine a request can wait seconds for its turn: Binance's
// largest window, so that no order fails -1021 for the machine's load.
const RECV_WINDOW = 60000;


let ex;
const streamClients = [];  // every WebsocketStream opened, disconnected in after()

// The random run sends orders as fast as the exchange answers: the rate
// limiter (its own tests: exchange_rate_limit_test) is off.
const NO_RATE_LIMITS = {
  XC_RATE_LIMIT_REQUEST_WEIGHT_PER_MIN: '0', XC_RATE_LIMIT_ORDERS_PER_10S: '0',
  XC_RATE_LIMIT_ORDERS_PER_DAY: '0', XC_RATE_LIMIT_ORDERS_PER_SEC: '0',
  XC_RATE_LIMIT_READS_PER_SEC: '0',
};

before(async () => { ex = await startExchange({ env: NO_RATE_LIMITS }); });
after(async () => {
  for (const c of streamClients) {
    // disconnect() marks the close as ours, so the connector does not
    // reconnect (it would retry forever against the stopped exchange).
    c.client.wsConnection.closeInitiated = true;
    try { c.client.wsConnection.ws?.terminate(); } catch { /* already closed */ }
  }
  if (ex && !ex.exit) await ex.stop();
});

function spot(user) {
  return spotClient(ex.baseURL, user.apiKey, user.secretKey);
}

// A connector WebsocketStream whose messages are collected (parsed) in
// `msgs`. The first stream method call opens the connection (streams in
// the URL); calls after `opened` send SUBSCRIBE.
function openStream({ combined = false } = {}) {
  const s = { msgs: [], closed: null };
  let resolveOpen;
  s.opened = new Promise((r) => { resolveOpen = r; });
  s.client = new WebsocketStream({
    wsURL: `ws://127.0.0.1:${ex.port}`,
    combinedStreams: combined,
    logger: quietLogger,
    reconnectDelay: 600000,  // a close is a failure here, never retried
    callbacks: {
      open: () => resolveOpen(),
      message: (d) => s.msgs.push(JSON.parse(d)),
      close: () => { s.closed = Date.now(); },
    },
  });
  streamClients.push(s);
  return s;
}

// Waits until some message of `s` satisfies `pred`; returns the last such one.
async function waitMsg(s, pred, what, timeoutMs = 15000) {
  return waitFor(() => s.msgs.filter(pred), (v) => v.length > 0,
    { timeoutMs, intervalMs: 20, what: `${what} (got ${s.msgs.length} messages)` }).then((v) => v[v.length - 1]);
}

async function getJson(p) {
  const r = await httpRequest({ url: ex.baseURL + p });
  assert.equal(r.status, 200, `${p}: ${r.text}`);
  return r.json;
}

const isAck = (m) => m && m.result === null && m.id !== undefined;

describe('connector WebsocketStream: payloads after known trades (BTCUSDT)', () => {
  let maker, taker, raw, combined, kline, partial;
  const trades = [];  // REST trades of BTCUSDT after the run

  test('streams open (path and SUBSCRIBE), orders and trades go through REST', async () => {
    const mu = await ex.createFundedUser({ USDT: '1000000', BTC: '100' });
    const tu = await ex.createFundedUser({ USDT: '1000000', BTC: '100' });
    maker = spot(mu);
    taker = spot(tu);

    // Raw: the first stream in the path, the others SUBSCRIBEd (connector's way).
    raw = openStream();
    raw.client.trade('BTCUSDT');  // -> /ws/btcusdt@trade
    await raw.opened;
    raw.client.aggTrade('BTCUSDT');
    raw.client.bookTicker('BTCUSDT');
    raw.client.diffBookDepth('BTCUSDT', '100ms');
    raw.client.miniTicker('BTCUSDT');
    raw.client.ticker('BTCUSDT');
    await waitFor(() => raw.msgs.filter(isAck).length, (n) => n === 5, { what: '5 SUBSCRIBE acks' });
    assert.ok(raw.msgs.filter(isAck).every((m) => typeof m.id === 'number'), 'ids echoed as numbers');
    // Combined: every stream in the query; the payloads come wrapped.
    combined = openStream({ combined: true });
    combined.client.subscribe(['btcusdt@trade', 'btcusdt@bookTicker']);
    await combined.opened;
    combined.client.aggTrade('BTCUSDT');
    await waitMsg(combined, isAck, 'combined SUBSCRIBE ack');
    kline = openStream();
    kline.client.kline('BTCUSDT', '1m');  // -> /ws/btcusdt@kline_1m
    await kline.opened;
    partial = openStream();
    partial.client.partialBookDepth('BTCUSDT', 5, '100ms');  // -> /ws/btcusdt@depth5@100ms
    await partial.opened;

    const base = await getJson('/api/v3/depth?symbol=BTCUSDT&limit=5000');
    assert.deepEqual([base.bids, base.asks], [[], []], 'BTCUSDT starts empty');
    raw.baseUpdateId = base.lastUpdateId;

    const lim = (c, side, qty, price) => c.newOrder('BTCUSDT', side, 'LIMIT', { timeInForce: 'GTC', recvWindow: RECV_WINDOW, quantity: qty, price });
    await lim(maker, 'SELL', '0.002', '30000');
    await lim(maker, 'SELL', '0.003', '30010');
    // Taker buys through two levels: 0.002 @ 30000, 0.002 @ 30010 (buyer is taker: m=false).
    const b = (await lim(taker, 'BUY', '0.004', '30010')).data;
    assert.equal(b.status, 'FILLED');
    await lim(maker, 'BUY', '0.001', '29000');
    // Taker sells into the bid: 0.0005 @ 29000 (buyer is maker: m=true).
    const s = (await lim(taker, 'SELL', '0.0005', '28000')).data;
    assert.equal(s.status, 'FILLED');
    await lim(maker, 'BUY', '0.0002', '29500');  // best bid now 29500 x 0.0002
    trades.push(...(await getJson('/api/v3/trades?symbol=BTCUSDT&limit=10')));
    assert.equal(trades.length, 3);
  });

  test('@trade: one message per trade, exact fields, ids increasing, m flag', async () => {
    const got = await waitFor(() => raw.msgs.filter((m) => m.e === 'trade'), (v) => v.length >= 3,
      { what: '3 trade messages' });
    assert.equal(got.length, 3);
    for (let i = 0; i < 3; i++) {
      const m = got[i];
      const t = trades[i];
      assert.deepEqual(Object.keys(m).sort(), ['E', 'M', 'T', 'e', 'm', 'p', 'q', 's', 't'].sort());
      assert.equal(m.s, 'BTCUSDT');
      assert.equal(m.t, t.id);
      assert.equal(m.p, t.price);
      assert.equal(m.q, t.qty);
      assert.equal(m.T, t.time);
      assert.equal(m.m, t.isBuyerMaker);
      assert.equal(m.M, true);
      assert.ok(Number.isInteger(m.E) && m.E >= m.T - 1000 && m.E <= Date.now(), `E ${m.E} T ${m.T}`);
      if (i > 0) assert.equal(m.t, got[i - 1].t + 1, 'trade ids consecutive');
    }
    assert.deepEqual(got.map((m) => [m.p, m.q, m.m]), [
      ['30000.00000000', '0.00200000', false],
      ['30010.00000000', '0.00200000', false],
      ['29000.00000000', '0.00050000', true],
    ]);
  });

  test('@aggTrade: one aggregate per taker and price, f..l cover the trades', async () => {
    const got = await waitFor(() => raw.msgs.filter((m) => m.e === 'aggTrade'), (v) => v.length >= 3,
      { what: '3 aggTrade messages' });
    assert.equal(got.length, 3);
    const rest = await getJson('/api/v3/aggTrades?symbol=BTCUSDT');
    assert.equal(rest.length, 3);
    for (let i = 0; i < 3; i++) {
      const m = got[i];
      const a = rest[i];
      assert.deepEqual([m.s, m.a, m.p, m.q, m.f, m.l, m.T, m.m, m.M],
        ['BTCUSDT', a.a, a.p, a.q, a.f, a.l, a.T, a.m, true]);
      assert.equal(m.f, trades[i].id);
      assert.equal(m.l, trades[i].id);
      if (i > 0) assert.equal(m.a, got[i - 1].a + 1);
    }
  });

  test('@bookTicker: best bid/ask after each command that changed it, u increasing, ends at the REST book', async () => {
    const book = await getJson('/api/v3/ticker/bookTicker?symbol=BTCUSDT');
    const last = await waitMsg(raw, (m) => m.u !== undefined && m.b === book.bidPrice && m.B === book.bidQty,
      'bookTicker with the final best bid');
    assert.deepEqual(last, {
      u: last.u, s: 'BTCUSDT', b: '29500.00000000', B: '0.00020000', a: '30010.00000000', A: '0.00100000',
    });
    assert.equal(book.askPrice, '30010.00000000');
    assert.equal(book.askQty, '0.00100000');
    const bts = raw.msgs.filter((m) => m.u !== undefined && m.e === undefined);
    // u is the engine seq of the command that changed the top: one message per command.
    for (let i = 1; i < bts.length; i++) assert.ok(bts[i].u > bts[i - 1].u, 'u increases');
    // The first ask alone; 30000 stays best when 30010 arrives (no message
    // for an unchanged best); the sweep empties 30000 and takes 0.002 of
    // 30010 in one command: one message with its final top (never 30010 at
    // 0.003, a top only the middle of that command had).
    assert.deepEqual(bts.map((m) => [m.b, m.B, m.a, m.A]), [
      ['0.00000000', '0.00000000', '30000.00000000', '0.00200000'],
      ['0.00000000', '0.00000000', '30010.00000000', '0.00100000'],
      ['29000.00000000', '0.00100000', '30010.00000000', '0.00100000'],
      ['29000.00000000', '0.00050000', '30010.00000000', '0.00100000'],
      ['29500.00000000', '0.00020000', '30010.00000000', '0.00100000'],
    ]);
  });

  test('@depth@100ms: contiguous U/u from the empty book, levels with final quantities', async () => {
    const book = await getJson('/api/v3/depth?symbol=BTCUSDT&limit=5000');
    await waitMsg(raw, (m) => m.e === 'depthUpdate' && m.u === book.lastUpdateId, 'depthUpdate up to the REST lastUpdateId');
    const evs = raw.msgs.filter((m) => m.e === 'depthUpdate');
    const bids = new Map();
    const asks = new Map();
    let prev = raw.baseUpdateId;
    for (const e of evs) {
      assert.equal(e.s, 'BTCUSDT');
      assert.equal(e.U, prev + 1, `U ${e.U} after u ${prev}`);
      assert.ok(e.u >= e.U, `U ${e.U} <= u ${e.u}`);
      prev = e.u;
      for (const [p, q] of e.b) if (units(q) === 0n) bids.delete(p); else bids.set(p, q);
      for (const [p, q] of e.a) if (units(q) === 0n) asks.delete(p); else asks.set(p, q);
    }
    assert.deepEqual(sortedLevels(bids, true), book.bids);
    assert.deepEqual(sortedLevels(asks, false), book.asks);
    assert.deepEqual(book.bids, [['29500.00000000', '0.00020000'], ['29000.00000000', '0.00050000']]);
    assert.deepEqual(book.asks, [['30010.00000000', '0.00100000']]);
    // The level 30000 appeared and went: its last mention has quantity 0.
    const mentions = evs.flatMap((e) => e.a.filter(([p]) => p === '30000.00000000'));
    assert.ok(mentions.length >= 1);
    assert.equal(mentions[mentions.length - 1][1], '0.00000000');
  });

  test('@depth5@100ms (partialBookDepth): the top 5 of the REST book', async () => {
    const book = await getJson('/api/v3/depth?symbol=BTCUSDT&limit=5');
    const m = await waitMsg(partial, (x) => x.lastUpdateId === book.lastUpdateId, 'depth5 at the REST lastUpdateId');
    assert.deepEqual(m, { lastUpdateId: book.lastUpdateId, bids: book.bids, asks: book.asks });
  });

  test('@kline_1m: o/h/l/c/v/n/q of the minute(s) traded, as GET /api/v3/klines', async () => {
    // Trades may straddle a minute: expect each traded minute's figures.
    const byMinute = new Map();
    for (const t of trades) {
      const open = Math.floor(t.time / 60000) * 60000;
      if (!byMinute.has(open)) byMinute.set(open, []);
      byMinute.get(open).push(t);
    }
    for (const [open, ts] of byMinute) {
      const m = await waitMsg(kline, (x) => x.e === 'kline' && x.k.t === open && x.k.n === ts.length,
        `kline ${open} with ${ts.length} trades`);
      const k = m.k;
      const qty = ts.reduce((a, t) => a + units(t.qty), 0n);
      const quote = ts.reduce((a, t) => a + notional(t.price, t.qty), 0n);
      const prices = ts.map((t) => units(t.price));
      const max = prices.reduce((a, b) => (b > a ? b : a));
      const min = prices.reduce((a, b) => (b < a ? b : a));
      assert.deepEqual(
        [m.s, k.s, k.i, k.t, k.T, k.f, k.L, k.o, k.c, k.h, k.l, k.v, k.n, k.q, k.B],
        ['BTCUSDT', 'BTCUSDT', '1m', open, open + 59999, ts[0].id, ts[ts.length - 1].id, ts[0].price,
          ts[ts.length - 1].price, fmt(max), fmt(min), fmt(qty), ts.length, fmt(quote), '0']);
      const takerBuy = ts.filter((t) => !t.isBuyerMaker);
      assert.equal(k.V, fmt(takerBuy.reduce((a, t) => a + units(t.qty), 0n)));
      assert.equal(k.Q, fmt(takerBuy.reduce((a, t) => a + notional(t.price, t.qty), 0n)));
      const [rest] = await getJson(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${open}&limit=1`);
      assert.deepEqual([rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[8]],
        [k.t, k.o, k.h, k.l, k.c, k.v, k.n]);
      if (Date.now() < open + 60000) assert.equal(k.x, false, 'the current kline is open');
    }
  });

  test('@miniTicker and @ticker: the 24 h figures of GET /api/v3/ticker/24hr', async () => {
    const t24 = await getJson('/api/v3/ticker/24hr?symbol=BTCUSDT');
    const mini = await waitMsg(raw, (m) => m.e === '24hrMiniTicker' && m.v === t24.volume, 'miniTicker with all trades');
    assert.deepEqual(mini, {
      e: '24hrMiniTicker', E: mini.E, s: 'BTCUSDT', c: '29000.00000000', o: '30000.00000000',
      h: '30010.00000000', l: '29000.00000000', v: '0.00450000', q: fmt(notional('30000', '0.002') + notional('30010', '0.002') + notional('29000', '0.0005')),
    });
    const full = await waitMsg(raw, (m) => m.e === '24hrTicker' && m.n === 3 && m.b === '29500.00000000',
      'ticker with all trades and the final bid');
    for (const [k, f] of [['p', 'priceChange'], ['P', 'priceChangePercent'], ['w', 'weightedAvgPrice'],
      ['c', 'lastPrice'], ['Q', 'lastQty'], ['b', 'bidPrice'], ['B', 'bidQty'], ['a', 'askPrice'],
      ['A', 'askQty'], ['o', 'openPrice'], ['h', 'highPrice'], ['l', 'lowPrice'], ['v', 'volume'],
      ['q', 'quoteVolume'], ['F', 'firstId'], ['L', 'lastId'], ['n', 'count']]) {
      assert.equal(full[k], t24[f], `ticker ${k} vs 24hr ${f}`);
    }
    assert.deepEqual([full.s, full.c, full.o, full.F, full.L, full.n, full.p],
      ['BTCUSDT', '29000.00000000', '30000.00000000', trades[0].id, trades[2].id, 3, '-1000.00000000']);
    assert.equal(full.x, t24.prevClosePrice);
    assert.ok(full.O <= full.C && full.C <= full.E + 1000, `O ${full.O} C ${full.C} E ${full.E}`);
  });

  test('combined /stream?streams=: {"stream","data"} wrapping, data identical to the raw stream', async () => {
    const wrappedTrades = await waitFor(() => combined.msgs.filter((m) => m.stream === 'btcusdt@trade'),
      (v) => v.length >= 3, { what: '3 wrapped trades' });
    assert.equal(wrappedTrades.length, 3);
    const rawTrades = raw.msgs.filter((m) => m.e === 'trade');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(Object.keys(wrappedTrades[i]).sort(), ['data', 'stream']);
      assert.deepEqual(wrappedTrades[i].data, rawTrades[i]);
    }
    const aggs = await waitFor(() => combined.msgs.filter((m) => m.stream === 'btcusdt@aggTrade'),
      (v) => v.length >= 3, { what: '3 wrapped aggTrades (SUBSCRIBEd on the combined connection)' });
    assert.deepEqual(aggs.map((m) => m.data), raw.msgs.filter((m) => m.e === 'aggTrade'));
    const rawBts = raw.msgs.filter((m) => m.u !== undefined && m.e === undefined);
    const bt = await waitFor(() => combined.msgs.filter((m) => m.stream === 'btcusdt@bookTicker'),
      (v) => v.length >= rawBts.length, { what: 'wrapped bookTickers' });
    assert.deepEqual(bt.map((m) => m.data), rawBts);
    // Acks are not wrapped; nothing else arrives unwrapped.
    for (const m of combined.msgs) assert.ok(isAck(m) || (typeof m.stream === 'string' && m.data), JSON.stringify(m));
  });

  test('LIST_SUBSCRIPTIONS and UNSUBSCRIBE (connector unsubscribe)', async () => {
    raw.client.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 7 }));
    const list = await waitMsg(raw, (m) => m.id === 7, 'LIST_SUBSCRIPTIONS answer');
    assert.deepEqual(list.result.sort(), ['btcusdt@aggTrade', 'btcusdt@bookTicker', 'btcusdt@depth@100ms',
      'btcusdt@miniTicker', 'btcusdt@ticker', 'btcusdt@trade']);
    raw.client.unsubscribe(['btcusdt@trade', 'btcusdt@aggTrade']);
    await waitFor(() => raw.msgs.filter(isAck).length, (n) => n === 6, { what: 'UNSUBSCRIBE ack' });
    raw.client.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: 8 }));
    const list2 = await waitMsg(raw, (m) => m.id === 8, 'LIST_SUBSCRIPTIONS answer');
    assert.deepEqual(list2.result.sort(), ['btcusdt@bookTicker', 'btcusdt@depth@100ms', 'btcusdt@miniTicker', 'btcusdt@ticker']);
    // A trade after the UNSUBSCRIBE reaches the combined client but not the raw one.
    const before = raw.msgs.filter((m) => m.e === 'trade').length;
    await taker.newOrder('BTCUSDT', 'SELL', 'LIMIT', { timeInForce: 'GTC', recvWindow: RECV_WINDOW, quantity: '0.0002', price: '29500' });
    await waitFor(() => combined.msgs.filter((m) => m.stream === 'btcusdt@trade').length, (n) => n === 4,
      { what: 'the 4th trade on the combined stream' });
    await waitMsg(raw, (m) => m.u !== undefined && m.e === undefined && m.b === '29000.00000000', 'bookTicker after it');
    assert.equal(raw.msgs.filter((m) => m.e === 'trade').length, before, 'no trade after UNSUBSCRIBE');
    for (const s of [raw, combined, kline, partial]) assert.equal(s.closed, null, 'no stream was closed');
  });
});

// [price, qty] string pairs of a Map, best first (REST depth order).
function sortedLevels(map, bids) {
  const v = [...map.entries()].sort((x, y) => {
    const d = units(x[0]) - units(y[0]);
    return d === 0n ? 0 : (d < 0n) === bids ? 1 : -1;
  });
  return v;
}

// A local order book kept with Binance's diff-depth recipe (§4.2) from a
// connector WebsocketStream: buffer events, take a REST snapshot, drop
// events with u <= lastUpdateId, the first applied one must have
// U <= lastUpdateId + 1 <= u, each next U == previous u + 1. Every breach
// is recorded in `errors` (the test asserts there are none).
class BookFollower {
  constructor(name, symbol, stream, { combined = false } = {}) {
    this.name = name;
    this.symbol = symbol;
    this.streamName = stream;
    this.combined = combined;
    this.buffer = [];
    this.synced = false;   // snapshot applied
    this.started = false;  // first event applied
    this.lastU = 0;        // u of the last event applied (or the snapshot's lastUpdateId)
    this.bids = new Map();
    this.asks = new Map();
    this.events = 0;
    this.applied = 0;
    this.errors = [];
    this.last = null;  // the last event received
    this.s = openStream({ combined });
    const onMsg = this.s.client.callbacks.message;
    this.s.client.callbacks.message = (d) => {
      onMsg(d);
      const m = this.s.msgs.pop();  // keep memory flat: the follower has its own state
      this.onMessage(m);
    };
  }

  async open() {
    this.s.client.subscribe(this.streamName);
    await this.s.opened;
  }

  onMessage(m) {
    if (this.combined) {
      if (m.stream !== this.streamName) { this.errors.push(`unexpected message ${JSON.stringify(m).slice(0, 200)}`); return; }
      m = m.data;
    }
    if (m.e !== 'depthUpdate') { this.errors.push(`not a depthUpdate: ${JSON.stringify(m).slice(0, 200)}`); return; }
    this.events++;
    this.last = m;
    if (m.s !== this.symbol) this.errors.push(`symbol ${m.s}`);
    if (m.U > m.u) this.errors.push(`U ${m.U} > u ${m.u}`);
    if (!this.synced) { this.buffer.push(m); return; }
    this.apply(m);
  }

  apply(m) {
    if (m.u <= this.snapshotId && !this.started) return;  // already in the snapshot
    if (!this.started) {
      if (!(m.U <= this.snapshotId + 1 && this.snapshotId + 1 <= m.u)) {
        this.errors.push(`first event U ${m.U} u ${m.u} does not cover lastUpdateId+1 = ${this.snapshotId + 1}`);
      }
      this.started = true;
    } else if (m.U !== this.lastU + 1) {
      this.errors.push(`gap: U ${m.U} after u ${this.lastU}`);
    }
    for (const [p, q] of m.b) if (units(q) === 0n) this.bids.delete(p); else this.bids.set(p, q);
    for (const [p, q] of m.a) if (units(q) === 0n) this.asks.delete(p); else this.asks.set(p, q);
    this.lastU = m.u;
    this.applied++;
  }

  // Binance step 2: a snapshot older than the first buffered event is fetched again.
  async sync() {
    let snap;
    for (let i = 0; ; i++) {
      snap = await getJson(`/api/v3/depth?symbol=${this.symbol}&limit=5000`);
      if (this.buffer.length === 0 || snap.lastUpdateId >= this.buffer[0].U - 1) break;
      if (i > 50) throw new Error(`${this.name}: snapshot stays older than the stream`);
      await sleep(50);
    }
    this.snapshotId = snap.lastUpdateId;
    this.lastU = snap.lastUpdateId;
    for (const [p, q] of snap.bids) this.bids.set(p, q);
    for (const [p, q] of snap.asks) this.asks.set(p, q);
    this.synced = true;
    for (const m of this.buffer) this.apply(m);
    this.buffer = [];
  }

  book() {
    return { lastUpdateId: this.lastU, bids: sortedLevels(this.bids, true), asks: sortedLevels(this.asks, false) };
  }
}

describe('diff-depth sync against GET /api/v3/depth during a random run (ETHUSDT)', () => {
  const SYM = 'ETHUSDT';
  const followers = [];
  let partial20;
  const stats = { orders: 0, cancels: 0, cancelMisses: 0, filled: 0, partial: 0, errors: [] };

  test(`${RANDOM_OPS} random LIMIT orders and cancels from ${RANDOM_USERS * LOOPS_PER_USER} loops, followers joining before and during`, async () => {
    const users = [];
    for (let i = 0; i < RANDOM_USERS; i++) {
      users.push(spot(await ex.createFundedUser({ USDT: '100000000', ETH: '100000' })));
    }
    // Followers from the start (empty book) ...
    const early = [
      new BookFollower('depth@100ms early', SYM, 'ethusdt@depth@100ms'),
      new BookFollower('depth early', SYM, 'ethusdt@depth'),
      new BookFollower('depth@1000ms combined early', SYM, 'ethusdt@depth@1000ms', { combined: true }),
    ];
    for (const f of early) await f.open();
    await Promise.all(early.map((f) => f.sync()));
    followers.push(...early);
    partial20 = openStream();
    partial20.client.partialBookDepth(SYM, 20, '100ms');
    await partial20.opened;

    // ... and followers that join while orders flow (the recipe's real case).
    let done = 0;
    const joins = [0.2, 0.5, 0.8].map((frac) => Math.floor(RANDOM_OPS * frac));
    const joining = [];
    const join = async (k) => {
      const fs = [
        new BookFollower(`depth@100ms join${k}`, SYM, 'ethusdt@depth@100ms'),
        new BookFollower(`depth join${k}`, SYM, 'ethusdt@depth'),
      ];
      for (const f of fs) await f.open();
      // Buffer a little of the live stream before the snapshot, as the recipe does.
      await sleep(150);
      await Promise.all(fs.map((f) => f.sync()));
      followers.push(...fs);
    };

    const mid = 200000n;  // 2000.00 in ticks of 0.01
    const loop = async (c, seed) => {
      let rnd = seed;
      const rand = () => { rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd / 2147483648; };
      const open = [];
      while (done < RANDOM_OPS && stats.errors.length === 0) {
        const n = done++;
        for (const j of joins) if (n === j) joining.push(join(joining.length));
        try {
          if (open.length > 0 && rand() < 0.35) {
            const id = open.splice(Math.floor(rand() * open.length), 1)[0];
            stats.cancels++;
            try {
              await c.cancelOrder(SYM, { orderId: id, recvWindow: RECV_WINDOW });
            } catch (e) {
              // Filled meanwhile by another loop: -2011 Unknown order.
              if (!(e.response && e.response.data && e.response.data.code === -2011)) throw e;
              stats.cancelMisses++;
            }
          } else {
            const side = rand() < 0.5 ? 'BUY' : 'SELL';
            // Around the mid, buyers a bit above and sellers a bit below it
            // now and then: crosses, often partial, sometimes several levels.
            const off = BigInt(Math.floor(rand() * 300)) - (side === 'BUY' ? 240n : 60n);
            const ticks = mid + off;
            const price = `${ticks / 100n}.${String(ticks % 100n).padStart(2, '0')}`;
            const lots = 30 + Math.floor(rand() * 5000);  // 0.0030 .. 0.5029 ETH (notional >= 5)
            const qty = `${Math.floor(lots / 10000)}.${String(lots % 10000).padStart(4, '0')}`;
            const r = (await c.newOrder(SYM, side, 'LIMIT', { timeInForce: 'GTC', recvWindow: RECV_WINDOW, quantity: qty, price })).data;
            stats.orders++;
            if (r.status === 'FILLED') stats.filled++;
            else {
              if (r.status === 'PARTIALLY_FILLED') stats.partial++;
              open.push(r.orderId);
            }
          }
        } catch (e) {
          stats.errors.push(e.message);  // stops every loop
        }
      }
    };
    const loops = [];
    users.forEach((c, i) => {
      for (let j = 0; j < LOOPS_PER_USER; j++) loops.push(loop(c, 1 + i * 7919 + j * 104729));
    });
    await Promise.all(loops);
    await Promise.all(joining);
    assert.deepEqual(stats.errors, [], 'every order and cancel answered');
    // How many crosses end partial depends on how the loops interleave
    // (19 of 838 orders in one ASan run); a handful of each proves the
    // book was crossed both ways.
    assert.ok(stats.partial >= 5 && stats.filled >= 20, `crosses happened: ${JSON.stringify(stats)}`);
    const trades = await getJson(`/api/v3/trades?symbol=${SYM}&limit=1`);
    assert.equal(trades.length, 1);
    console.log(`# random run: ${JSON.stringify(stats)}, last trade id ${trades[0].id}, ${followers.length} followers`);
  });

  test('every follower: no gap, a valid first event, book == GET /api/v3/depth (all levels)', async () => {
    // Activity has stopped: the REST book no longer moves. Wait until every
    // follower has applied the event that reaches its lastUpdateId (the
    // 1000 ms streams need up to a second).
    const book = await getJson(`/api/v3/depth?symbol=${SYM}&limit=5000`);
    assert.ok(book.bids.length > 20 && book.asks.length > 20, `a deep book: ${book.bids.length} bids, ${book.asks.length} asks`);
    for (const f of followers) {
      await waitFor(() => ({ lastU: f.lastU, errors: f.errors.length }),
        (v) => v.lastU >= book.lastUpdateId || v.errors > 0,
        { timeoutMs: 20000, intervalMs: 50, what: `${f.name} to reach lastUpdateId ${book.lastUpdateId}` });
    }
    await sleep(1200);  // one more slow interval: nothing further may arrive
    const again = await getJson(`/api/v3/depth?symbol=${SYM}&limit=5000`);
    assert.equal(again.lastUpdateId, book.lastUpdateId, 'the book is quiet');
    const lines = [];
    for (const f of followers) {
      lines.push(`${f.name}: ${f.events} events, ${f.applied} applied, errors ${f.errors.length}`);
      assert.deepEqual(f.errors, [], `${f.name}: recipe breaches`);
      assert.ok(f.applied > 0, `${f.name}: applied events`);
      assert.equal(f.lastU, book.lastUpdateId, `${f.name}: last u`);
      const mine = f.book();
      assert.equal(mine.bids.length, book.bids.length, `${f.name}: bid levels`);
      assert.equal(mine.asks.length, book.asks.length, `${f.name}: ask levels`);
      assert.deepEqual(mine, book, `${f.name}: rebuilt book`);
      assert.equal(f.s.closed, null, `${f.name}: connection stayed open`);
    }
    console.log(`# ${lines.join('\n# ')}`);
  });

  test('@depth20@100ms ends at the top 20 of GET /api/v3/depth', async () => {
    const book = await getJson(`/api/v3/depth?symbol=${SYM}&limit=20`);
    const m = await waitMsg(partial20, (x) => x.lastUpdateId === book.lastUpdateId, 'depth20 at the final lastUpdateId');
    assert.deepEqual(m, { lastUpdateId: book.lastUpdateId, bids: book.bids, asks: book.asks });
    assert.equal(m.bids.length, 20);
    assert.equal(m.asks.length, 20);
    // Its lastUpdateIds never went back.
    const ids = partial20.msgs.map((x) => x.lastUpdateId);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i] > ids[i - 1], `lastUpdateId ${ids[i]} after ${ids[i - 1]}`);
  });
});
