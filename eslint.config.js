import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['test/fixtures/control/syntax-error.ts', 'dist/**', 'node_modules/**', 'results/**', '.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  // The architecture's import rules (docs/contributing.md): lib/ runs on both sides and imports only lib/;
  // client/ is bundled and shipped to devices on its own, so it never imports server/.
  {
    files: ['lib/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)(server|client)(/|$)', message: 'lib/ imports only lib/: move shared code into lib/.' }] }] },
  },
  {
    files: ['client/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)server(/|$)', message: 'client/ ships to devices on its own and never imports server/.' }] }] },
  },
  {
    // Test names keep autotest's spelling (desktopui_UrlFetch) because users type them.
    files: ['site_tests/**/*.ts'],
    rules: { '@typescript-eslint/naming-convention': 'off' },
  },
);
