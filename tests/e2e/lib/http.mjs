// Raw HTTP and Binance request signing, without a client library: what the
// bad-input tests use to send exactly the bytes they mean, and what the
// other tests use to read state independently of the client under test.

import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

// One request on a fresh connection. -> {status, headers, text, json}
// (json is undefined when the body is not JSON).
export function httpRequest({ method = 'GET', url, headers = {}, body = '', timeoutMs = 10000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// Sends `raw` bytes on a new TCP connection and collects everything the
// server sends until it closes (or timeoutMs). -> {text, closed, ms}
export function rawExchange(port, raw, { timeoutMs = 5000, endWrite = false } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ text, closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.setEncoding('latin1');
    sock.on('data', (d) => { text += d; });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => {
      // A reset after the server answered still counts as a close.
      if (text) finish(true); else if (!done) { done = true; clearTimeout(timer); reject(e); }
    });
    sock.on('connect', () => {
      const chunks = Array.isArray(raw) ? raw : [raw];
      for (const c of chunks) sock.write(c);
      if (endWrite) sock.end();
    });
  });
}

// Splits a raw HTTP/1.1 response text into status, headers and JSON body
// (the first response only).
export function parseRawResponse(text) {
  const m = /^HTTP\/1\.1 (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n/.exec(text);
  if (!m) return null;
  const headers = {};
  for (const line of m[2].split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = text.slice(m[0].length);
  if (headers['content-length'] !== undefined) body = body.slice(0, Number(headers['content-length']));
  let json;
  try { json = JSON.parse(body); } catch { json = undefined; }
  return { status: Number(m[1]), headers, body, json };
}

export function hmacHex(secret, payload) {
  return crypto.createHmac('sha256', secret).update(payload).digest('hex');
}

// "a=1&b=x%20y" from [['a','1'],['b','x y']] or {a:'1', b:'x y'}, in order.
export function formEncode(params) {
  const pairs = Array.isArray(params) ? params : Object.entries(params);
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
}

// A SIGNED request, built as the clients build it (BINANCE_COMPAT.md §2.1).
//   params: object or [name, value] pairs, in wire order. `timestamp` is
//     added last unless present (pass timestamp: null to omit it).
//   opts.where: 'query' (the connector's way, default) or 'body' (ccxt's
//     POST/PUT way: form body, empty query).
//   opts.sign: false sends no signature; a string sends that signature.
//   opts.apiKey: overrides user.apiKey (null: no header).
//   opts.rawQuery / opts.rawBody: exact strings to sign and send instead.
// -> {status, headers, text, json}
export function signedRequest(baseURL, user, method, path, params = {}, opts = {}) {
  let pairs = Array.isArray(params) ? [...params] : Object.entries(params);
  if (!pairs.some(([k]) => k === 'timestamp')) pairs.push(['timestamp', String(Date.now())]);
  pairs = pairs.filter(([, v]) => v !== null && v !== undefined);
  const where = opts.where || 'query';
  let query = opts.rawQuery !== undefined ? opts.rawQuery : where === 'query' ? formEncode(pairs) : '';
  let body = opts.rawBody !== undefined ? opts.rawBody : where === 'body' ? formEncode(pairs) : '';
  if (opts.sign !== false) {
    const sig = typeof opts.sign === 'string' ? opts.sign : hmacHex(user.secretKey, query + body);
    if (where === 'body' && opts.rawQuery === undefined) body += `${body ? '&' : ''}signature=${sig}`;
    else query += `${query ? '&' : ''}signature=${sig}`;
  }
  const headers = { ...(opts.headers || {}) };
  const apiKey = opts.apiKey === undefined ? user.apiKey : opts.apiKey;
  if (apiKey !== null) headers['X-MBX-APIKEY'] = apiKey;
  if (body && !headers['Content-Type']) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  return httpRequest({ method, url: `${baseURL}${path}${query ? `?${query}` : ''}`, headers, body });
}

// GET /api/v3/account as a map asset -> {free, locked} of decimal strings.
export async function accountBalances(baseURL, user) {
  const r = await signedRequest(baseURL, user, 'GET', '/api/v3/account');
  if (r.status !== 200) throw new Error(`account: HTTP ${r.status} ${r.text}`);
  const out = {};
  for (const b of r.json.balances) out[b.asset] = { free: b.free, locked: b.locked };
  return out;
}

export async function ping(baseURL) {
  const r = await httpRequest({ url: `${baseURL}/api/v3/ping` });
  if (r.status !== 200 || r.text !== '{}') throw new Error(`ping: HTTP ${r.status} ${r.text}`);
  return true;
}
