// The exchange under test: starts the real `exchange` binary on free ports
// (XC_PORT=0, XC_ADMIN_PORT=0) with a fresh --data-dir, creates users and
// credits balances through its admin API, and stops it with SIGTERM (exit 0
// expected) or SIGKILL (for crash tests).
//
// The binary is $XC_EXCHANGE (ctest passes $<TARGET_FILE:exchange>), else
// build/bin/exchange of this checkout.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { httpRequest } from './http.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..', '..');

export function exchangeBinary() {
  return process.env.XC_EXCHANGE || path.join(repoRoot, 'build', 'bin', 'exchange');
}

// Every exchange still running when the test process exits is killed, so a
// failed test never leaves a server behind.
const live = new Set();
process.on('exit', () => {
  for (const ex of live) {
    try { ex.proc.kill('SIGKILL'); } catch { /* already gone */ }
    try { fs.rmSync(ex.tmp, { recursive: true, force: true }); } catch { /* ignore */ }
  }
});

export class Exchange {
  // Use startExchange().
  constructor(proc, tmp) {
    this.proc = proc;
    this.tmp = tmp;
    this.dataDir = path.join(tmp, 'data');
    this.stdout = '';
    this.stderr = '';
    this.port = 0;
    this.adminPort = 0;
    this.exit = null;  // {code, signal} once exited
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(this);
        resolve(this.exit);
      });
    });
  }

  get baseURL() { return `http://127.0.0.1:${this.port}`; }
  get adminURL() { return `http://127.0.0.1:${this.adminPort}`; }

  // The process output so far, for failure messages.
  output() {
    return `--- exchange stdout\n${this.stdout}--- exchange stderr\n${this.stderr}`;
  }

  async adminPost(p, body) {
    const r = await httpRequest({
      method: 'POST', url: this.adminURL + p,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? '' : JSON.stringify(body),
    });
    if (r.status !== 200) {
      throw new Error(`admin POST ${p} ${JSON.stringify(body)}: HTTP ${r.status} ${r.text}`);
    }
    return r.json;
  }

  // -> {userId, apiKey, secretKey}
  createUser() { return this.adminPost('/admin/v1/users'); }

  // Credits (negative: withdraws) `amount`, a decimal string, to the free
  // balance. -> {userId, asset, free, locked}
  credit(userId, asset, amount) {
    return this.adminPost('/admin/v1/balances', { userId, asset, amount: String(amount) });
  }

  // A user with the given deposits, e.g. {USDT: '10000', BTC: '1'}.
  async createFundedUser(deposits = {}) {
    const u = await this.createUser();
    for (const [asset, amount] of Object.entries(deposits)) await this.credit(u.userId, asset, amount);
    return u;
  }

  // SIGTERM, then waits for exit; throws unless the exit code is 0.
  async stop({ timeoutMs = 15000 } = {}) {
    if (this.exit) throw new Error(`exchange had already exited: ${JSON.stringify(this.exit)}\n${this.output()}`);
    this.proc.kill('SIGTERM');
    const r = await withTimeout(this.exited, timeoutMs, 'exchange did not exit after SIGTERM');
    fs.rmSync(this.tmp, { recursive: true, force: true });
    if (r.code !== 0) {
      throw new Error(`exchange exit ${JSON.stringify(r)} after SIGTERM (expected code 0)\n${this.output()}`);
    }
    return r;
  }

  // SIGKILL (a crash); keeps the data directory for a restart on it
  // (startExchange({dataDir: ex.dataDir})). -> {code: null, signal: 'SIGKILL'}
  async kill() {
    this.proc.kill('SIGKILL');
    return withTimeout(this.exited, 10000, 'exchange did not die after SIGKILL');
  }

  // Removes the temp directory (data included) of an exchange that has exited.
  cleanup() {
    if (!this.exit) throw new Error('cleanup() of a running exchange');
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(what)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Starts the exchange and resolves once it printed "ready".
// opts.config: text of a config file (written to the temp dir, passed as --config);
// opts.dataDir: reuse a data directory (restart after kill()); opts.env: extra variables.
// The per-second rate limits (100 orders/s per key, 1000 reads/s per IP) are
// off by default: these tests send as fast as the exchange answers, so how
// many requests fall into one second depends on the machine, and a 429 would
// make them flaky. The limiter has its own tests (exchange_rate_limit_test,
// gateway_rate_limiter_test); opts.env can turn them back on.
export async function startExchange(opts = {}) {
  const bin = exchangeBinary();
  if (!fs.existsSync(bin)) throw new Error(`exchange binary not found: ${bin} (build it, or set XC_EXCHANGE)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xc-e2e-'));
  const dataDir = opts.dataDir || path.join(tmp, 'data');
  const args = ['--data-dir', dataDir];
  if (opts.config !== undefined) {
    const cfg = path.join(tmp, 'exchange.conf');
    fs.writeFileSync(cfg, opts.config);
    args.push('--config', cfg);
  }
  const proc = spawn(bin, args, {
    env: { ...process.env, XC_PORT: '0', XC_ADMIN_PORT: '0', XC_LISTEN_ADDR: '127.0.0.1',
           XC_ADMIN_ADDR: '127.0.0.1', XC_RATE_LIMIT_ORDERS_PER_SEC: '0',
           XC_RATE_LIMIT_READS_PER_SEC: '0', ...(opts.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ex = new Exchange(proc, tmp);
  ex.dataDir = dataDir;
  live.add(ex);
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { ex.stderr += d; });
  proc.stdout.setEncoding('utf8');
  await withTimeout(new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.stdout.on('data', (d) => {
      ex.stdout += d;
      const client = /^client_port=(\d+)$/m.exec(ex.stdout);
      const admin = /^admin_port=(\d+)$/m.exec(ex.stdout);
      if (client) ex.port = Number(client[1]);
      if (admin) ex.adminPort = Number(admin[1]);
      if (/^ready$/m.test(ex.stdout)) {
        if (!ex.port || !ex.adminPort) reject(new Error(`ready without ports\n${ex.output()}`));
        else resolve();
      }
    });
    ex.exited.then((r) => reject(new Error(`exchange exited during start: ${JSON.stringify(r)}\n${ex.output()}`)));
  }), 20000, 'exchange not ready after 20 s').catch(async (e) => {
    proc.kill('SIGKILL');
    await withTimeout(ex.exited, 5000, 'no exit').catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  });
  return ex;
}

// The default config with `overrides` ({key: value}) replacing its lines.
export async function defaultConfigWith(overrides) {
  const text = await new Promise((resolve, reject) => {
    const p = spawn(exchangeBinary(), ['--print-default-config'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`--print-default-config: exit ${code}`))));
  });
  const seen = new Set();
  const lines = text.split('\n').map((line) => {
    const m = /^([A-Za-z0-9_.]+)\s*=/.exec(line);
    if (m && m[1] in overrides) {
      seen.add(m[1]);
      return `${m[1]} = ${overrides[m[1]]}`;
    }
    return line;
  });
  for (const k of Object.keys(overrides)) if (!seen.has(k)) lines.push(`${k} = ${overrides[k]}`);
  return lines.join('\n');
}
