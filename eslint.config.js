import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layering (see README "Architecture"): imports point one way, from a layer to the layers below.
//   cli, server            the surfaces
//   service                the composition root (the one place concrete parts are chosen)
//   archiver, restore, tiering, disk      the engines (archiver and restore never import each other)
//   catalog                the index of segments across tiers
//   archive                key layout and the tiers (hot directory, object store listing, sources)
//   segment, storage, kafka                the base: Parquet, object stores, the Kafka adapter
//   config, log, errors, record, util      the bottom
const layers = [
  ['cli', 'server'],
  ['service'],
  ['archiver', 'restore', 'tiering', 'disk'],
  ['catalog'],
  ['archive'],
  ['segment', 'storage', 'kafka'],
  ['config', 'log', 'util', 'errors.ts', 'record.ts'],
];
const globsOf = (names) =>
  names.flatMap((n) => (n.endsWith('.ts') ? [`**/${n.slice(0, -3)}.js`] : [`**/${n}/**`]));
const srcFiles = (names) => names.map((n) => (n.endsWith('.ts') ? `src/${n}` : `src/${n}/**`));
const layering = layers.map((layer, i) => ({
  files: srcFiles(layer),
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...(i > 0
            ? [
                {
                  group: [
                    ...globsOf(layers.slice(0, i).flat()),
                    '**/src/index.js',
                    '../index.js',
                    '../../index.js',
                  ],
                  message: `${layer.join('/')} must not import a layer above it (README "Architecture")`,
                },
              ]
            : []),
        ],
      },
    ],
  },
}));
const siblings = [
  {
    files: ['src/archiver/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...globsOf(layers.slice(0, 2).flat()), '**/restore/**', '**/src/index.js'],
              message: 'archiver and restore never import each other',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/restore/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...globsOf(layers.slice(0, 2).flat()), '**/archiver/**', '**/src/index.js'],
              message: 'archiver and restore never import each other',
            },
          ],
        },
      ],
    },
  },
];

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
  ...layering,
  ...siblings,
  {
    files: ['bin/**/*.js', 'scripts/**/*.{js,mjs}'],
    languageOptions: { globals: { process: 'readonly' } },
  },
);
