// ts-jest compiles TypeScript with the pinned 5.x compiler (TypeScript 7 has no JS API).
// The mdast/micromark family is ESM-only, so it is transformed too (ts-jest runs CommonJS).
const esmOnly = [
  'mdast-util-[^/]+',
  'micromark[^/]*',
  'unist-util-[^/]+',
  'decode-named-character-reference',
  'character-entities',
  'devlop',
  'mdast-util-to-string',
];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  testTimeout: 60000,
  globalSetup: '<rootDir>/tests/global-setup.js',
};
