/**
 * Kraken API credentials: from the environment (TOLLGATE_KRAKEN_API_KEY, TOLLGATE_KRAKEN_API_SECRET) or
 * from a file readable by its owner only (mode 600: a group- or world-readable file is refused). The
 * values never appear in a message, log line or error: problems name the variable or file, not the value.
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../engine/wiring.ts';

export interface Credentials {
  readonly apiKey: string;
  readonly secret: string;
  /** where they came from, for messages: "environment" or the file path */
  readonly source: string;
}

export const ENV_KEY = 'TOLLGATE_KRAKEN_API_KEY';
export const ENV_SECRET = 'TOLLGATE_KRAKEN_API_SECRET';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function checked(apiKey: string, secret: string, source: string): Credentials {
  if (!apiKey.trim()) throw new InputError(`${source}: the API key is empty`);
  if (!BASE64.test(secret) || secret.length % 4 !== 0) throw new InputError(`${source}: the API secret is not base64 (Kraken's secrets are); check that it was copied whole`);
  return { apiKey: apiKey.trim(), secret, source };
}

/** Credentials from the environment, or null when neither variable is set. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials | null {
  const key = env[ENV_KEY];
  const secret = env[ENV_SECRET];
  if (key === undefined && secret === undefined) return null;
  if (key === undefined || secret === undefined) throw new InputError(`environment: ${key === undefined ? ENV_KEY : ENV_SECRET} is missing (set both ${ENV_KEY} and ${ENV_SECRET}, or neither)`);
  return checked(key, secret, 'environment');
}

/**
 * Credentials from a file: JSON `{"apiKey": "...", "secret": "..."}` or `KEY=VALUE` lines with the
 * variable names above. Refused unless only its owner can read it.
 */
export function credentialsFromFile(file: string): Credentials {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new InputError(`credentials file ${file}: cannot read it`);
  }
  if ((mode & 0o077) !== 0) {
    throw new InputError(`credentials file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  }
  const text = readFileSync(file, 'utf8');
  if (text.trimStart().startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      throw new InputError(`credentials file ${file}: not valid JSON`); // the parser's message could quote the secret
    }
    const r = o as { apiKey?: unknown; secret?: unknown };
    if (typeof r.apiKey !== 'string' || typeof r.secret !== 'string') throw new InputError(`credentials file ${file}: expected {"apiKey": "...", "secret": "..."}`);
    return checked(r.apiKey, r.secret, `credentials file ${file}`);
  }
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.replace(/^["']|["']$/g, '');
  }
  const c = credentialsFromEnv(vars);
  if (!c) throw new InputError(`credentials file ${file}: expected ${ENV_KEY}=... and ${ENV_SECRET}=... lines, or JSON`);
  return { ...c, source: `credentials file ${file}` };
}
