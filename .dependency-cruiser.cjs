/** ARCHITECTURE.md's dependency rule, checked in CI (`npm run check:deps`). */
const layer = (name) => `^src/${name}/`;
const components = 'guards|strategies|portfolio|lifecycle|execution|shadow|tracking|analytics|monitor';
module.exports = {
  forbidden: [
    {
      name: 'domain-imports-nothing',
      comment: 'domain/ imports no other layer, and of packages only decimal.js (pure exact math)',
      severity: 'error',
      from: { path: layer('domain') },
      to: { pathNot: ['^src/domain/', 'node_modules/decimal\\.js'] },
    },
    {
      name: 'only-app-imports-adapters',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/app/', '^src/adapters/'] },
      to: { path: layer('adapters') },
    },
    {
      name: 'bus-and-ports-import-domain-only',
      severity: 'error',
      from: { path: '^src/(bus|ports)/' },
      to: { path: '^src/', pathNot: ['^src/domain/', '^src/(bus|ports)/'] },
    },
    {
      name: 'components-import-bus-ports-domain',
      comment: 'a component may import only bus, ports, domain and itself',
      severity: 'error',
      from: { path: `^src/(${components})/` },
      to: { path: '^src/', pathNot: ['^src/(domain|bus|ports)/', '^src/$1/'] },
    },
    {
      name: 'adapters-import-ports-domain',
      severity: 'error',
      from: { path: '^src/adapters/' },
      to: { path: '^src/', pathNot: ['^src/(domain|ports|adapters)/'] },
    },
    {
      name: 'config-imports-domain',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: ['^src/(domain|config)/'] },
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
