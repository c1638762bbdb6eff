// Writes dist/index.mjs and dist/index.d.mts: an ECMAScript-module face for the CommonJS build,
// re-exporting every named export, so `import { openHandle } from 'ipvs'` works as `require` does,
// and the whole module as the default export (`import ipvs from 'ipvs'; ipvs.openHandle()`), typed
// as such in index.d.mts. (From CommonJS, `require('ipvs')` is that same object; it has no `default`.)
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const require = createRequire(import.meta.url);
const names = Object.keys(require(join(dist, 'index.js'))).filter((n) => n !== 'default' && n !== '__esModule');
const lines = [
  "import cjs from './index.js';",
  ...names.map((n) => `export const ${n} = cjs.${n};`),
  'export default cjs;',
  '',
];
writeFileSync(join(dist, 'index.mjs'), lines.join('\n'));
writeFileSync(
  join(dist, 'index.d.mts'),
  ["import * as ipvs from './index.js';", "export * from './index.js';", 'export default ipvs;', ''].join('\n'),
);
