// pm2 apps of a Tollgate installation: `pm2 start ecosystem.config.cjs` (or `tollgate deploy`, which starts
// each app from the release slot's real path: pm2 resolves a symlinked cwd once, at start).
//
//   tollgate-bot      the bot: paper / sim / live from TOLLGATE_MODE. Fork mode, ONE instance: two engines on
//                     one account must never trade at once.
//   tollgate-intake   the webhook intake alone (TOLLGATE_INTAKE_HTTP): writes alerts to data/intake.db before
//                     its 202; the bot consumes them. A bot deploy or crash never restarts it: no alert is lost.
//   tollgate-dashboard  when the release has a dashboard server (dashboard/server.ts) and TOLLGATE_DASHBOARD_HTTP
//
// The environment comes from a file outside the release: TOLLGATE_ENV_FILE, else BASE/shared/env/tollgate.env
// when this file sits in BASE/slots/X or BASE/intake, else ./tollgate.env. deploy/tollgate.env.example lists
// every setting. Logs go to ./logs (in a slot: a link to BASE/shared/logs).
const fs = require('node:fs');
const path = require('node:path');

const here = fs.realpathSync(__dirname);

function parseEnv(text) {
  const out = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

function envFile() {
  if (process.env.TOLLGATE_ENV_FILE) return process.env.TOLLGATE_ENV_FILE;
  const inSlot = path.basename(path.dirname(here)) === 'slots' ? path.join(here, '..', '..') : path.basename(here) === 'intake' ? path.join(here, '..') : null;
  if (inSlot && fs.existsSync(path.join(inSlot, 'shared'))) return path.join(inSlot, 'shared', 'env', 'tollgate.env');
  return path.join(here, 'tollgate.env');
}

const file = envFile();
const env = fs.existsSync(file) ? parseEnv(fs.readFileSync(file, 'utf8')) : {};
const get = (k, d) => (env[k] !== undefined && env[k] !== '' ? env[k] : process.env[k] !== undefined && process.env[k] !== '' ? process.env[k] : d);

const logs = get('TOLLGATE_LOGS', 'logs');
const pair = get('TOLLGATE_PAIR', 'BTC/USD');
const config = get('TOLLGATE_CONFIG', '');
const intakeStore = get('TOLLGATE_INTAKE_STORE', 'data/intake.db');
const intakeHttp = get('TOLLGATE_INTAKE_HTTP', '');
const mode = get('TOLLGATE_MODE', 'paper');

const botArgs = ['run', '--mode', mode, '--pair', pair, '--logs', logs, '--state', get('TOLLGATE_STATE', 'data/tollgate.db'), '--http', get('TOLLGATE_HTTP', '127.0.0.1:8080')];
if (config) botArgs.push('--config', config);
if (get('TOLLGATE_INTERVAL')) botArgs.push('--interval', get('TOLLGATE_INTERVAL'));
if (get('TOLLGATE_URL')) botArgs.push('--url', get('TOLLGATE_URL'));
if (get('TOLLGATE_CREDENTIALS')) botArgs.push('--credentials', get('TOLLGATE_CREDENTIALS'));
if (mode === 'live' && get('TOLLGATE_CONFIRM_LIVE') === 'yes') botArgs.push('--confirm-live');
if (get('TOLLGATE_WS') === 'yes') botArgs.push('--ws');
if (intakeHttp) botArgs.push('--intake-store', intakeStore);
if (get('TOLLGATE_LOG_LEVEL')) botArgs.push('--log-level', get('TOLLGATE_LOG_LEVEL'));

// restarts: exponential back-off from 250 ms (pm2 caps it at 15 s), reset after 30 s up
const common = {
  script: 'bin/tollgate.js',
  cwd: here,
  exec_mode: 'fork',
  instances: 1,
  autorestart: true,
  exp_backoff_restart_delay: 250,
  min_uptime: 30_000,
  max_memory_restart: get('TOLLGATE_MAX_MEMORY', '1G'),
  wait_ready: true, // the app sends 'ready' once recovered and listening
  merge_logs: true,
  time: true,
  env: { NODE_ENV: 'production', NO_COLOR: '1', ...env },
};

const apps = [
  {
    ...common,
    name: 'tollgate-bot',
    args: botArgs,
    // start-up: markets, history warm-up, recovery and reconciliation (sim/live) before 'ready'
    listen_timeout: Number(get('TOLLGATE_LISTEN_TIMEOUT_MS', '120000')),
    // graceful stop finishes the current candle and drains HTTP: well above pm2's 1.6 s default
    kill_timeout: Number(get('TOLLGATE_KILL_TIMEOUT_MS', '30000')),
    out_file: path.join(logs, 'pm2-bot-out.log'),
    error_file: path.join(logs, 'pm2-bot-err.log'),
  },
];
if (intakeHttp) {
  const intakeArgs = ['intake', '--http', intakeHttp, '--store', intakeStore, '--pair', pair, '--logs', logs];
  if (config) intakeArgs.push('--config', config);
  apps.push({
    ...common,
    name: 'tollgate-intake',
    args: intakeArgs,
    listen_timeout: 30_000,
    kill_timeout: 10_000,
    max_memory_restart: '512M', // tsx + fastify + SQLite: 256M left too little headroom (a restart seen once under a full test run)
    out_file: path.join(logs, 'pm2-intake-out.log'),
    error_file: path.join(logs, 'pm2-intake-err.log'),
  });
}
// the dashboard: its own process over the bot's logs and state (read-only), so a dashboard crash never touches trading;
// TOLLGATE_DASHBOARD_HTTP=HOST:PORT turns it on, the password comes from the env file (TOLLGATE_DASHBOARD_PASSWORD[_FILE])
const dashboardHttp = get('TOLLGATE_DASHBOARD_HTTP');
if (dashboardHttp) {
  const [dashHost, dashPort] = [dashboardHttp.slice(0, dashboardHttp.lastIndexOf(':')), dashboardHttp.slice(dashboardHttp.lastIndexOf(':') + 1)];
  const dashArgs = ['dashboard', '--host', dashHost, '--port', dashPort, '--logs', logs];
  // the state only when there is one (a paper bot writes none; the dashboard refuses a missing file): a later
  // deploy or restart of the dashboard picks it up once a sim/live run has created it
  const dashState = get('TOLLGATE_STATE', 'data/tollgate.db');
  if (fs.existsSync(path.resolve(here, dashState))) dashArgs.push('--state', dashState);
  if (get('TOLLGATE_DASHBOARD_PASSWORD_FILE')) dashArgs.push('--password-file', get('TOLLGATE_DASHBOARD_PASSWORD_FILE'));
  if (get('TOLLGATE_DASHBOARD_BEHIND_TLS')) dashArgs.push('--behind-tls');
  apps.push({
    ...common,
    name: 'tollgate-dashboard',
    args: dashArgs,
    listen_timeout: 30_000,
    kill_timeout: 10_000,
    max_memory_restart: '512M',
    out_file: path.join(logs, 'pm2-dashboard-out.log'),
    error_file: path.join(logs, 'pm2-dashboard-err.log'),
  });
}

module.exports = { apps };
