// ESLint (flat config): typescript-eslint's recommended rules with type information for src/,
// the plain recommended rules for the JavaScript tests, benchmarks and scripts. Formatting is
// Prettier's job (npm run format:check), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', '.tg/**', 'node_modules/**', 'test/openapi/**', 'fixtures/**', 'bench/out/**'] },
  js.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/unit/**/*.ts'],
    extends: [...tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off', // JSON schemas and API payloads are any by nature; kept at the edges
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      'no-console': 'error',
    },
  },
  // node:test's test() returns a promise the runner awaits.
  { files: ['test/unit/**/*.ts'], rules: { '@typescript-eslint/no-floating-promises': 'off' } },
  {
    files: ['**/*.mjs', 'bin/tg', 'scripts/**/*.mjs', 'bench/**/*.mjs', 'test/**/*.mjs'],
    languageOptions: { globals: { ...globals.node }, sourceType: 'module' },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }] },
  },
  {
    files: ['**/*.cjs', 'bin/tg'],
    languageOptions: { globals: { ...globals.node }, sourceType: 'commonjs' },
  },
);
