import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layering (see README "Architecture"): imports point one way.
// cli/server -> service -> archiver/restore/disk -> catalog/storage/kafka/segment -> config/log/errors.
const lower = ['**/cli/**', '**/server/**', '**/service/**'];
const engines = ['**/archiver/**', '**/restore/**', '**/disk/**'];
const base = ['**/catalog/**', '**/storage/**', '**/kafka/**', '**/segment/**'];

const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  { files: ['src/**/*.ts'], rules: { 'no-console': 'error' } },
  {
    files: ['src/archiver/**', 'src/restore/**', 'src/disk/**'],
    rules: restrict(lower, 'engines must not import the CLI or server'),
  },
  {
    files: ['src/service/**'],
    rules: restrict(['**/cli/**', '**/server/**'], 'services must not import the CLI or server'),
  },
  {
    files: ['src/archiver/**'],
    rules: restrict([...lower, '**/restore/**'], 'archiver and restore never import each other'),
  },
  {
    files: ['src/restore/**'],
    rules: restrict([...lower, '**/archiver/**'], 'archiver and restore never import each other'),
  },
  {
    files: ['src/catalog/**', 'src/storage/**', 'src/kafka/**', 'src/segment/**'],
    rules: restrict([...lower, ...engines], 'base modules must not import engines, CLI or server'),
  },
  {
    files: ['src/config/**', 'src/log/**', 'src/errors.ts'],
    rules: restrict([...lower, ...engines, ...base], 'config/log/errors are the bottom layer'),
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.{js,mjs}'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
