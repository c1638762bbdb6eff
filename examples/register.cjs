// Lets Node run this repository's TypeScript examples straight from source:
//
//   node -r ./examples/register.cjs examples/proxy/main.ts --config examples/proxy/example.yaml
//
// The examples import the library as '../../src/index' so they always run against the code next
// to them; in your own project, install the package and import from 'ipvs' instead (it ships
// compiled JavaScript and types, so you need none of this).
//
// Each .ts file is transpiled (types stripped, no type check: `npm run typecheck` does that) with
// the TypeScript compiler from devDependencies, and the result is cached by content hash under
// node_modules/.cache/ipvs-examples, because loading the compiler costs far more than using it.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const cacheDir = path.join(__dirname, '..', 'node_modules', '.cache', 'ipvs-examples');
let ts = null;
let version = null;

function compiler() {
  if (!ts) ts = require('typescript');
  return ts;
}

function tsVersion() {
  if (version === null) {
    try {
      version = require('typescript/package.json').version;
    } catch {
      throw new Error('examples/register.cjs needs the typescript devDependency: run npm install in the repository');
    }
  }
  return version;
}

function transpile(source, filename) {
  const key = crypto.createHash('sha256').update(tsVersion()).update('\0').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  const t = compiler();
  const out = t.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: t.ModuleKind.CommonJS,
      target: t.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
      inlineSources: true,
    },
  }).outputText;
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, cached);
  } catch {
    // a read-only checkout still runs, only slower
  }
  return out;
}

require.extensions['.ts'] = function loadTs(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
process.setSourceMapsEnabled?.(true);
