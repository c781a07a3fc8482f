import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmp } from '../../test/helpers.ts';
import { httpSettingsFromEnv, parseListen, secretFrom, TRADINGVIEW_IPS } from './config.ts';
import { alertTime, clientAddress, secretEquals } from './webhook.ts';

describe('HTTP settings', () => {
  it('when --http is HOST:PORT then host and port are read; anything else is refused naming the value', () => {
    expect(parseListen('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 }); // loopback unless an address is given
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('8080')).toThrow('--http 8080: expected HOST:PORT, e.g. 127.0.0.1:8080');
    expect(() => parseListen('example.com:80')).toThrow(/example\.com is not an IP address/);
    expect(() => parseListen('1.2.3.4:70000')).toThrow(/expected HOST:PORT/);
  });

  it('when a secret comes from a file then the file must be mode 600; a short secret or both sources are refused, never printing the value', () => {
    const dir = tmp('tollgate-http-cfg-');
    const file = join(dir, 'token');
    writeFileSync(file, 'file-token-0123456789\n');
    chmodSync(file, 0o644);
    expect(() => secretFrom({ T_FILE: file }, 'T')).toThrow(/readable by others \(mode 644\); chmod 600 it/);
    chmodSync(file, 0o600);
    expect(secretFrom({ T_FILE: file }, 'T')).toBe('file-token-0123456789');
    expect(() => secretFrom({ T: 'abc' }, 'T')).toThrow('T: too short (at least 12 characters)');
    expect(() => secretFrom({ T: 'long-enough-secret', T_FILE: file }, 'T')).toThrow(/both set/);
    expect(secretFrom({}, 'T')).toBeNull();
  });

  it('when the allowlist names the tradingview preset then its four published addresses are allowed; a bad address is refused', () => {
    const s = httpSettingsFromEnv('127.0.0.1:0', { TOLLGATE_WEBHOOK_ALLOW_IPS: 'tradingview, 10.0.0.1' }, { strategies: ['ema_cross'] });
    expect(s.webhook.allowIps).toEqual([...TRADINGVIEW_IPS, '10.0.0.1']);
    expect(s.token).toBeNull();
    expect(s.webhook.defaultStrategy).toBe('ema_cross');
    expect(() => httpSettingsFromEnv('127.0.0.1:0', { TOLLGATE_HTTP_TRUSTED_PROXIES: 'proxy.local' }, { strategies: ['x'] })).toThrow(/"proxy\.local" is not an IP address/);
  });
});

describe('webhook rules', () => {
  it('when X-Forwarded-For is present then it is believed only from a trusted proxy, right-most untrusted hop first', () => {
    expect(clientAddress('::ffff:127.0.0.1', '52.89.214.238', [])).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', '1.1.1.1, 52.89.214.238', ['127.0.0.1'])).toBe('52.89.214.238');
    expect(clientAddress('127.0.0.1', '52.89.214.238, 10.0.0.2', ['127.0.0.1', '10.0.0.2'])).toBe('52.89.214.238');
    expect(clientAddress('127.0.0.1', 'garbage', ['127.0.0.1'])).toBe('127.0.0.1');
  });

  it('when secrets are compared then equal ones match and any other does not, whatever its length', () => {
    expect(secretEquals('abc-def-ghi-jkl', 'abc-def-ghi-jkl')).toBe(true);
    for (const other of ['', 'abc', 'abc-def-ghi-jkm', 'abc-def-ghi-jkl ']) expect(secretEquals(other, 'abc-def-ghi-jkl')).toBe(false);
  });

  it('when an alert time is ISO 8601 or epoch seconds or milliseconds then it is read; anything else is not a time', () => {
    const t = Date.UTC(2025, 0, 2, 3, 4, 5);
    expect(alertTime('2025-01-02T03:04:05Z')).toBe(t);
    expect(alertTime('2025-01-02T04:04:05+01:00')).toBe(t);
    expect(alertTime(t / 1000)).toBe(t);
    expect(alertTime(String(t))).toBe(t);
    for (const bad of ['2025-01-02', 'now', '', -5, null, {}]) expect(alertTime(bad)).toBeNull();
  });
});
