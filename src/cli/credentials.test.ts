import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmp } from '../../test/helpers.ts';
import { credentialsFromEnv, credentialsFromFile, ENV_KEY, ENV_SECRET } from './credentials.ts';

const SECRET = 'kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==';
const KEY = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrst';

function file(content: string, mode: number): string {
  const f = join(tmp(), 'kraken.env');
  writeFileSync(f, content);
  chmodSync(f, mode);
  return f;
}

const noSecret = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect((e as Error).message).not.toContain(SECRET);
    expect((e as Error).message).not.toContain(KEY);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('Kraken credentials', () => {
  it('come from the environment when both variables are set, and from nowhere when neither is', () => {
    expect(credentialsFromEnv({ [ENV_KEY]: KEY, [ENV_SECRET]: SECRET })).toEqual({ apiKey: KEY, secret: SECRET, source: 'environment' });
    expect(credentialsFromEnv({})).toBeNull();
    expect(noSecret(() => credentialsFromEnv({ [ENV_KEY]: KEY }))).toMatch(/TOLLGATE_KRAKEN_API_SECRET is missing/);
  });

  it('a secret that is not base64 is refused without being quoted', () => {
    expect(noSecret(() => credentialsFromEnv({ [ENV_KEY]: KEY, [ENV_SECRET]: `${SECRET.slice(0, 20)}!!` }))).toMatch(/not base64/);
  });

  it('come from a file readable by its owner only, as KEY=VALUE lines or JSON', () => {
    expect(credentialsFromFile(file(`${ENV_KEY}=${KEY}\n${ENV_SECRET}=${SECRET}\n`, 0o600))).toMatchObject({ apiKey: KEY, secret: SECRET });
    expect(credentialsFromFile(file(JSON.stringify({ apiKey: KEY, secret: SECRET }), 0o400))).toMatchObject({ apiKey: KEY, secret: SECRET });
  });

  it.each([0o644, 0o640, 0o604])('a file with mode %o is refused and the message says how to fix it', (mode) => {
    const f = file(`${ENV_KEY}=${KEY}\n${ENV_SECRET}=${SECRET}\n`, mode);
    expect(noSecret(() => credentialsFromFile(f))).toMatch(new RegExp(`readable by others \\(mode ${mode.toString(8)}\\); run: chmod 600`));
  });

  it('a malformed file is refused without quoting its content', () => {
    expect(noSecret(() => credentialsFromFile(file(`{"apiKey": "${KEY}", "secret": "${SECRET}"`, 0o600)))).toMatch(/not valid JSON/);
    expect(noSecret(() => credentialsFromFile(file(`API=${SECRET}\n`, 0o600)))).toMatch(/expected TOLLGATE_KRAKEN_API_KEY/);
  });
});
