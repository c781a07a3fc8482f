/**
 * Venue errors are classified here, at the boundary (ARCHITECTURE rule 5), from ccxt's classes and
 * Kraken's own strings — including the ones ccxt leaves as a plain ExchangeError.
 *
 * - `rejected`: the venue refused this order; do not retry it (funds, minimum, bad arguments).
 * - `retryable`: nothing happened on the venue; trying again later is safe (rate limit, nonce, throttling,
 *   maintenance, a deadline that elapsed before matching). Back off first.
 * - `ambiguous`: the request may or may not have taken effect (timeout, 5xx, unavailable, dropped
 *   connection). For a call that creates an order the outcome is UNKNOWN: look the client order id up on
 *   the venue before anything is sent again. For a read, the same as retryable.
 * - `fatal`: credentials or account problems; stop trading and tell the operator.
 * - `not_found`: the order is not there (a cancel of something already filled or cancelled).
 */
import ccxt from 'ccxt';

export type VenueErrorKind = 'rejected' | 'retryable' | 'ambiguous' | 'fatal' | 'not_found';

export interface ClassifiedError {
  readonly kind: VenueErrorKind;
  /** Kraken's error string when there is one (`EOrder:Insufficient funds`), else the error class */
  readonly code: string;
  /** one line, secrets removed */
  readonly message: string;
}

/** Kraken strings, checked before ccxt's class (ccxt maps some of them loosely, some not at all). */
const BY_STRING: ReadonlyArray<readonly [RegExp, VenueErrorKind]> = [
  [/EOrder:Unknown order/, 'not_found'],
  [/EAPI:Invalid nonce/, 'retryable'],
  [/EAPI:Rate limit exceeded|EOrder:Rate limit exceeded|EGeneral:Too many requests|EGeneral:Temporary lockout|EService:\s?Throttled/, 'retryable'],
  [/EService:Deadline elapsed/, 'retryable'], // the matching engine refused it unplaced
  [/EService:Market in \w+ mode/, 'retryable'],
  [/EAPI:Invalid key|EAPI:Invalid signature|EAPI:Bad request|EGeneral:Permission denied|ETrade:User Locked|EAPI:Feature disabled/, 'fatal'],
  [/EService:Unavailable|EService:Busy|EGeneral:Internal error/, 'ambiguous'],
  [/EOrder:[A-Za-z ]+|EGeneral:Invalid arguments|EQuery:[A-Za-z ]+|EFunding:[A-Za-z ]+/, 'rejected'],
];

const KRAKEN_CODE = /[EW](?:General|API|Query|Order|Trade|Funding|Service|Auth|Session|Database|Fee|Margin|Account):[^"\],]*/;

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('[redacted]');
  return out;
}

export function classifyVenueError(e: unknown, secrets: readonly string[] = []): ClassifiedError {
  const raw = e instanceof Error ? e.message : String(e);
  const message = redact(raw.replace(/\s+/g, ' ').trim(), secrets).slice(0, 300);
  const code = KRAKEN_CODE.exec(raw)?.[0]?.trim() ?? (e instanceof Error ? e.constructor.name : 'Error');
  for (const [re, kind] of BY_STRING) if (re.test(raw)) return { kind, code, message };
  // ccxt's classes, most specific first
  if (e instanceof ccxt.OrderNotFound) return { kind: 'not_found', code, message };
  if (e instanceof ccxt.InvalidNonce || e instanceof ccxt.DDoSProtection || e instanceof ccxt.RateLimitExceeded || e instanceof ccxt.OnMaintenance) return { kind: 'retryable', code, message };
  if (e instanceof ccxt.AuthenticationError) return { kind: 'fatal', code, message }; // incl. PermissionDenied, AccountSuspended
  if (e instanceof ccxt.InsufficientFunds || e instanceof ccxt.InvalidOrder || e instanceof ccxt.BadRequest || e instanceof ccxt.NotSupported) return { kind: 'rejected', code, message };
  if (e instanceof ccxt.NetworkError) return { kind: 'ambiguous', code, message }; // RequestTimeout, ExchangeNotAvailable, connection reset
  if (e instanceof ccxt.ExchangeError) return { kind: 'ambiguous', code, message }; // unknown exchange error: assume the worst
  // not from ccxt at all (a socket error, a bug below us): the request's effect is unknown
  return { kind: 'ambiguous', code, message };
}
