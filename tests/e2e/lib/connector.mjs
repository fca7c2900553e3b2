// Helpers around @binance/connector shared by the e2e files.

import connector from '@binance/connector';

const { Spot } = connector;

// The connector logs every error response to console.error; keep output quiet.
export const quietLogger = { log: () => {}, error: () => {}, info: () => {}, warn: () => {}, debug: () => {} };

// A Spot on `baseURL` whose failed calls throw an Error that shows the HTTP
// status and body (axios errors only say "Request failed with status code
// 400"); the axios response stays on err.response.
export function spotClient(baseURL, apiKey, secret) {
  const c = new Spot(apiKey, secret, { baseURL, logger: quietLogger });
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
