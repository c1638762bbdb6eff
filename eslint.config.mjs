// Lint for the TypeScript sources, tests, bench, examples and scripts: ESLint's and
// typescript-eslint's recommended rules. Not the type-aware set: it needs a TypeScript program for
// every file and would take most of a minute on a two-core machine (see CONTRIBUTING.md).
// `npm run lint`; `npm test` runs it first.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/**', 'build/**', 'docs/api/**', 'prebuilds/**', '.vm/**', '**/node_modules/**', 'bench/results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore marks a binding kept on purpose (a skipped tuple slot, a rest sibling
      // that drops a key, a parameter an interface requires); tsc's noUnusedLocals checks the rest.
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_',
        destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
      // `catch {}` is how a best-effort clean-up says "whatever happened, go on".
      'no-empty': ['error', { allowEmptyCatch: true }],
      // An options interface that only extends another is a named, documented public type.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
);
