// /health and /ready of the real exchange binary, through a graceful
// shutdown (tools/exchange/README.md "Health, readiness and metrics"):
// /health 200 and /ready 200 while it runs; from SIGTERM on /ready answers
// 503 {"status":"draining"} while /health stays 200, new connections are
// refused, and the exit is 0.
//
// Observing 503 without timing luck: the exchange stops accepting right
// after the signal (HttpServer::Stop closes the acceptor), and only requests
// already being read are finished (within stop_grace, 5 s). So the probes
// here are requests whose first bytes the server has read before SIGTERM:
// each connection sends a complete request plus the start of a second one
// in one write; once the first answer is back, the server holds the second
// one as a started request (its state kReading), which Stop() lets finish.
// After the signal, the rest of the second request is sent.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';

import { startExchange } from './lib/exchange.mjs';
import { httpRequest, parseRawResponse } from './lib/http.mjs';
import { sleep, waitFor } from './lib/util.mjs';

let ex;
after(async () => { if (ex && !ex.exit) await ex.kill(); });

// A raw keep-alive connection that collects what the server sends.
function connect(port) {
  return new Promise((resolve, reject) => {
    const c = { text: '', closed: false, sock: net.connect(port, '127.0.0.1') };
    c.sock.setEncoding('latin1');
    c.sock.on('data', (d) => { c.text += d; });
    c.sock.on('close', () => { c.closed = true; });
    c.sock.on('error', () => { /* a reset shows as closed */ });
    c.sock.once('connect', () => resolve(c));
    c.sock.once('error', reject);
  });
}

// Responses (status, headers, json) in c.text so far, in order.
function responses(c) {
  const out = [];
  let rest = c.text;
  for (;;) {
    const r = parseRawResponse(rest);
    if (!r || r.body.length < Number(r.headers['content-length'] || 0)) break;
    out.push(r);
    const head = rest.indexOf('\r\n\r\n') + 4;
    rest = rest.slice(head + Number(r.headers['content-length'] || 0));
  }
  return out;
}

test('/health and /ready: 200 while running; /ready 503 "draining" once SIGTERM arrives, /health still 200; exit 0', { timeout: 60000 }, async () => {
  ex = await startExchange();
  const h = await httpRequest({ url: `${ex.baseURL}/health` });
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'ok' });
  const r = await httpRequest({ url: `${ex.baseURL}/ready` });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ready' });
  const m = await httpRequest({ url: `${ex.baseURL}/metrics` });
  assert.match(m.text, /^xc_ready 1$/m);

  // Held probes: a full request, and the start of the next one in the same write.
  const probes = {};
  for (const path of ['/ready', '/health', '/ready#never-finished']) {
    const c = await connect(ex.port);
    const p = path.split('#')[0];
    c.sock.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\nGET ${p} HTTP/1.1\r\nHost: x\r\n`);
    probes[path] = c;
  }
  for (const [path, c] of Object.entries(probes)) {
    const [first] = await waitFor(() => responses(c), (v) => v.length === 1, { what: `first answer on ${path}` });
    assert.equal(first.status, 200, `${path} before the signal`);
  }

  const t0 = Date.now();
  ex.proc.kill('SIGTERM');
  await waitFor(() => ex.stdout, (s) => /shutting down/.test(s), { timeoutMs: 10000, what: '"shutting down" on stdout' });
  // The exchange prints that line right before it marks itself draining;
  // give its main thread a moment so a preemption there cannot race us.
  await sleep(200);
  assert.equal(ex.exit, null, 'still running: the held requests keep the drain open');

  // A new connection is refused: the acceptor closed with the signal.
  const fresh = await httpRequest({ url: `${ex.baseURL}/ready`, timeoutMs: 3000 }).then(
    (x) => `HTTP ${x.status} ${x.text}`, (e) => e.code || e.message);
  assert.match(String(fresh), /ECONNREFUSED|ECONNRESET|socket hang up/, `new connection after SIGTERM: ${fresh}`);

  probes['/ready'].sock.write('\r\n');
  probes['/health'].sock.write('\r\n');
  const ready = (await waitFor(() => responses(probes['/ready']), (v) => v.length === 2, { what: '/ready while draining' }))[1];
  const health = (await waitFor(() => responses(probes['/health']), (v) => v.length === 2, { what: '/health while draining' }))[1];
  assert.equal(ready.status, 503, `/ready while draining: ${ready.body}`);
  assert.deepEqual(ready.json, { status: 'draining' });
  assert.equal(health.status, 200, `/health while draining: ${health.body}`);
  assert.deepEqual(health.json, { status: 'ok' });
  for (const res of [ready, health]) assert.equal((res.headers.connection || '').toLowerCase(), 'close');
  await waitFor(() => probes['/ready'].closed && probes['/health'].closed, (v) => v, { what: 'answered probes closed' });

  // The third probe never finishes its request: Stop() closes it after its
  // grace (5 s), unanswered, and the exchange exits 0.
  let timer;
  const exit = await Promise.race([ex.exited, new Promise((r) => { timer = setTimeout(() => r(null), 20000); })]);
  clearTimeout(timer);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM\n${ex.output()}`);
  const ms = Date.now() - t0;
  assert.ok(ms >= 4000, `the unfinished request held the drain for the grace period (${ms} ms)`);
  const held = probes['/ready#never-finished'];
  await waitFor(() => held.closed, (v) => v, { what: 'the unfinished probe closed' });
  assert.equal(responses(held).length, 1, 'no answer to the unfinished request');
  console.log(`# SIGTERM -> exit 0 in ${ms} ms (held by one unfinished request)`);
  ex.cleanup();
});

test('drain_grace_ms: after SIGTERM new probes get /ready 503 while orders still trade, then exit 0', { timeout: 60000 }, async () => {
  const grace = 3000;
  const ex2 = await startExchange({ env: { XC_DRAIN_GRACE_MS: String(grace) } });
  try {
    const r = await httpRequest({ url: `${ex2.baseURL}/ready` });
    assert.equal(r.status, 200);
    const t0 = Date.now();
    ex2.proc.kill('SIGTERM');
    await waitFor(() => ex2.stdout, (s) => /shutting down/.test(s), { timeoutMs: 10000, what: '"shutting down" on stdout' });
    // A fresh connection (as a Kubernetes probe makes) sees draining.
    const ready = await waitFor(() => httpRequest({ url: `${ex2.baseURL}/ready` }), (x) => x.status === 503,
      { what: '/ready 503 on a new connection during the grace' });
    assert.deepEqual(ready.json, { status: 'draining' });
    const health = await httpRequest({ url: `${ex2.baseURL}/health` });
    assert.equal(health.status, 200);
    const ping = await httpRequest({ url: `${ex2.baseURL}/api/v3/ping` });
    assert.equal(ping.status, 200, 'the API still serves during the grace');
    const exit = await ex2.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM\n${ex2.output()}`);
    const ms = Date.now() - t0;
    assert.ok(ms >= grace - 100, `served for the grace period (${ms} ms)`);
  } finally {
    if (!ex2.exit) await ex2.kill();
    ex2.cleanup();
  }
});
