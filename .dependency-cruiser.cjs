/**
 * ARCHITECTURE.md's dependency rule, checked in CI (`npm run check:deps`). Every folder of src/ has a rule;
 * a folder not listed in FOLDERS is itself an error, so a new folder must say where it sits.
 *
 *   domain                    imports nothing (decimal.js only)
 *   bus, ports                → domain
 *   kraken                    → domain            (Kraken's rules: asset codes, pairs, minimums, acceptance)
 *   components                → bus, ports, domain, kraken, themselves
 *   adapters                  → ports, domain, kraken
 *   config                    → domain
 *   engine                    → components, bus, ports, domain, config, kraken; adapters only in the composition
 *   operator                  → engine, portfolio, ports, domain, config
 *   http, cli                 → engine, operator, config, domain, ports, kraken (cli also adapters and sim, for set-up)
 *   sim                       → domain, kraken (and the clock and CSV adapters it replays with)
 *   ops                       → domain, ports, config, adapters, kraken (deploys, doctor: cli calls them)
 *   dashboard                 → engine (the report read model), analytics (its types), ports, domain, config,
 *                               adapters/sqlite (the state, read-only)
 *   nothing imports cli/ or http/
 */
const components = 'guards|strategies|portfolio|lifecycle|execution|shadow|tracking|analytics|monitor';
const FOLDERS = `domain|bus|ports|kraken|${components}|adapters|config|engine|operator|http|cli|sim|ops|digest|dashboard|telegram`;
const only = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: '^src/', pathNot: allowed.map((a) => `^src/(${a})/`) },
});
module.exports = {
  forbidden: [
    {
      name: 'every-folder-has-a-rule',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: `^src/(${FOLDERS})/` },
    },
    {
      name: 'domain-imports-nothing',
      comment: 'domain/ imports no other layer, and of packages only decimal.js (pure exact math)',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: ['^src/domain/', 'node_modules/decimal\\.js'] },
    },
    only('bus-and-ports-import-domain', '^src/(bus|ports)/', ['domain', 'bus', 'ports']),
    only('kraken-rules-import-domain', '^src/kraken/', ['domain', 'kraken'], "Kraken's rules are facts: pure, shared by venues, simulator and state"),
    only('components-import-bus-ports-domain', `^src/(${components})/`, ['domain', 'bus', 'ports', 'kraken', '$1'], 'a component may import only bus, ports, domain, the Kraken rules and itself'),
    only('adapters-import-ports-domain', '^src/adapters/', ['domain', 'ports', 'kraken', 'adapters']),
    only('config-imports-domain', '^src/config/', ['domain', 'config']),
    only('engine-imports-engine-folders', '^src/engine/', [components, 'domain', 'bus', 'ports', 'kraken', 'config', 'engine', 'adapters']),
    {
      name: 'engine-imports-adapters-only-to-compose',
      comment:
        'the kernel, the Bot and the live loop see ports only; adapters are chosen in the composition (compose*.ts). ' +
        'Named exceptions, each a recorder or reader of one adapter: the durable state of a replay and of a live run ' +
        '(SQLite), the log readers of report/counterfactual (JSONL) and the sim clock follower (its scaled clock)',
      severity: 'error',
      from: { path: '^src/engine/', pathNot: '^src/engine/(compose[^/]*|durable-replay|live-state|reporting|counterfactual|sim-clock)\\.ts$' },
      to: { path: '^src/adapters/' },
    },
    only('operator-imports-engine', '^src/operator/', ['engine', 'portfolio', 'ports', 'domain', 'config', 'operator']),
    only('http-imports-engine-operator', '^src/http/', ['engine', 'operator', 'config', 'domain', 'ports', 'kraken', 'http'], 'the HTTP face calls the engine and the operator service; tickers map through the one Kraken pair source'),
    only('cli-imports-engine-operator', '^src/cli/', ['engine', 'operator', 'config', 'domain', 'ports', 'kraken', 'adapters', 'sim', 'http', 'cli', 'ops', 'digest', 'dashboard', 'telegram', components]),
    only('ops-imports-domain-config-adapters', '^src/ops/', ['domain', 'ports', 'config', 'adapters', 'kraken', 'ops'], 'operations (slot deploys, doctor) run beside the bot: they read its state and config, never its engine'),
    only('digest-imports-report-types-ports-domain', '^src/digest/', ['domain', 'ports', 'analytics', 'digest'], 'the periodic digest is pure: the report(s), the ledger snapshot and audit rows are handed in by cli/'),
    only('dashboard-imports-read-model', '^src/dashboard/', ['engine', 'analytics', 'ports', 'domain', 'config', 'adapters/sqlite', 'dashboard'], 'the dashboard reads the report read model and the state (read-only); it commands only through the operator API'),
    only('telegram-imports-operator-engine', '^src/telegram/', ['operator', 'engine', 'domain', 'ports', 'config', 'telegram'], 'the Telegram front commands through the operator service, like every front'),
    only('sim-imports-domain-and-kraken-rules', '^src/sim/', ['domain', 'kraken', 'ports', 'sim', 'adapters/(clock|csv|market)']),
    {
      name: 'nothing-imports-cli-or-http',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|http)/' },
      to: { path: '^src/(cli|http)/' },
    },
    {
      name: 'production-code-imports-no-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '(^test/|\\.test\\.ts$)' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
