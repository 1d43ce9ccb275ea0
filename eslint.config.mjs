// Lint: typescript-eslint's recommended rules, Nx module boundaries (the stream core depends on nothing),
// and a hard ban on framework/client imports inside the stream core.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.nx/**', '.streamguard/**', 'coverage/**', 'k8s/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      '@nx/enforce-module-boundaries': ['error', {
        allow: [],
        depConstraints: [
          { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['scope:core'] },
          { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:core', 'scope:shared'] },
          { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
          { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib'] },
        ],
      }],
    },
  },
  {
    // The stream core is plain TypeScript: no framework, no client library, no metrics library, no wall clock.
    files: ['libs/stream-core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@nestjs/*', '@confluentinc/*', 'pg', 'prom-client', 'typeorm', 'fastify'], message: 'The stream core must stay framework-free (STYLE.md §1).' },
        { group: ['@streamguard/*'], message: 'Use relative imports inside the lib; the core depends on no other lib.' },
      ] }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Inject a Clock; operators never read the wall clock.' }],
    },
  },
  {
    // Install-time scripts run before anything is compiled: plain CommonJS.
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', 'no-restricted-properties': 'off' },
  },
  {
    // Integration tests share one harness (test/support) that starts real processes across projects.
    files: ['**/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
);
