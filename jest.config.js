// Two Jest projects: `unit` (pure, no infrastructure, spec files next to the code) and `integration`
// (real Kafka broker + real Postgres started once by test/setup/global-setup.ts; files under */test/).
const swc = [
  '@swc/jest',
  {
    swcrc: false,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];
const common = {
  transform: { '^.+\\.(t|j|mj)s$': swc },
  // Nest 12 ships ESM; let SWC transform it (and its ESM-only deps) to CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|file-type|strtoken|token-types|@tokenizer|uint8array-extras|load-esm)/)'],
  moduleNameMapper: {
    '^@streamguard/common$': '<rootDir>/libs/common/src/index.ts',
    '^@streamguard/common/(.*)$': '<rootDir>/libs/common/src/$1',
    '^@streamguard/stream-core$': '<rootDir>/libs/stream-core/src/index.ts',
  },
  testEnvironment: 'node',
};
module.exports = {
  // A native client left connected by a failed test (librdkafka threads) must not keep CI waiting after the run.
  forceExit: true,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/*/test/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      testTimeout: 120000,
    },
  ],
};
