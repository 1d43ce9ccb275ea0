import { boolVar, ConfigError, enumVar, EnvVar, intVar, jsonVar, listVar, loadConfig, optionalStringVar, secret, stringVar } from './env-var';

/** Runs loadConfig and returns the ConfigError it throws (fails the test if it does not throw one). */
function configErrorOf(schema: Record<string, EnvVar<unknown>>, env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('env vars', () => {
  describe('stringVar', () => {
    const schema = { name: stringVar('APP_NAME', 'Service name.', 'fallback') };

    it('returns the raw value unchanged (no trimming) and falls back to the default when unset', () => {
      expect(loadConfig(schema, { APP_NAME: '  my app ' })).toEqual({ name: '  my app ' });
      expect(loadConfig(schema, {})).toEqual({ name: 'fallback' });
    });

    it.each([[''], ['   ']])('rejects the blank value %p even though a default exists', (raw) => {
      expect(configErrorOf(schema, { APP_NAME: raw }).problems)
        .toEqual([`APP_NAME=${JSON.stringify(raw)} must not be empty; expected a non-empty string`]);
    });
  });

  describe('intVar', () => {
    const schema = { port: intVar('PORT', 'HTTP port.', 8080, 1, 65535) };

    it.each([
      ['1', 1], ['65535', 65535], [' 443 ', 443], ['0080', 80],
    ])('parses %p as %p', (raw, expected) => {
      expect(loadConfig(schema, { PORT: raw })).toEqual({ port: expected });
    });

    it('uses the numeric default, stored as a string', () => {
      expect(schema.port.defaultValue).toBe('8080');
      expect(loadConfig(schema, {})).toEqual({ port: 8080 });
    });

    it.each([['0'], ['65536'], ['-1']])('rejects %p as out of range', (raw) => {
      expect(configErrorOf(schema, { PORT: raw }).problems).toEqual([`PORT="${raw}" is out of range; expected an integer from 1 to 65535`]);
    });

    it.each([['1.5'], ['1e3'], ['0x10'], ['80abc'], [''], ['+80']])('rejects %p as not an integer', (raw) => {
      expect(configErrorOf(schema, { PORT: raw }).problems).toEqual([`PORT=${JSON.stringify(raw)} is not an integer; expected an integer from 1 to 65535`]);
    });

    it('defaults to the range 0..MAX_SAFE_INTEGER', () => {
      const wide = { n: intVar('N', 'n', undefined) };
      expect(wide.n.expected).toBe('an integer from 0 to 9007199254740991');
      expect(loadConfig(wide, { N: '0' })).toEqual({ n: 0 });
      expect(loadConfig(wide, { N: '9007199254740991' })).toEqual({ n: Number.MAX_SAFE_INTEGER });
      expect(configErrorOf(wide, { N: '9007199254740993' }).problems).toEqual(['N="9007199254740993" is out of range; expected an integer from 0 to 9007199254740991']);
    });
  });

  describe('enumVar', () => {
    const schema = { level: enumVar('LOG_LEVEL', 'Log level.', ['debug', 'info', 'warn'] as const, 'info') };

    it('accepts a listed value and defaults', () => {
      expect(loadConfig(schema, { LOG_LEVEL: 'warn' })).toEqual({ level: 'warn' });
      expect(loadConfig(schema, {})).toEqual({ level: 'info' });
    });

    it.each([['WARN'], ['warning'], [' warn']])('rejects %p (case- and space-sensitive)', (raw) => {
      expect(configErrorOf(schema, { LOG_LEVEL: raw }).problems).toEqual([`LOG_LEVEL=${JSON.stringify(raw)} is not allowed; expected one of debug, info, warn`]);
    });
  });

  describe('boolVar', () => {
    const schema = { flag: boolVar('FEATURE_X', 'Feature X.', false) };

    it.each([['true', true], ['1', true], ['false', false], ['0', false]])('parses %p as %p', (raw, expected) => {
      expect(loadConfig(schema, { FEATURE_X: raw })).toEqual({ flag: expected });
    });

    it('defaults to the given boolean', () => {
      expect(loadConfig(schema, {})).toEqual({ flag: false });
      expect(loadConfig({ flag: boolVar('FEATURE_Y', 'Feature Y.', true) }, {})).toEqual({ flag: true });
    });

    it.each([['TRUE'], ['yes'], ['on'], ['']])('rejects %p', (raw) => {
      expect(configErrorOf(schema, { FEATURE_X: raw }).problems).toEqual([`FEATURE_X=${JSON.stringify(raw)} is not a boolean; expected true or false`]);
    });
  });

  describe('listVar', () => {
    const schema = { brokers: listVar('BROKERS', 'Brokers.', 'localhost:9092') };

    it('splits on commas, trims and drops empty items', () => {
      expect(loadConfig(schema, { BROKERS: ' a:1 ,, b:2 ,' })).toEqual({ brokers: ['a:1', 'b:2'] });
      expect(loadConfig(schema, {})).toEqual({ brokers: ['localhost:9092'] });
    });

    it.each([[''], [' , ,']])('rejects %p as empty', (raw) => {
      expect(configErrorOf(schema, { BROKERS: raw }).problems).toEqual([`BROKERS=${JSON.stringify(raw)} is empty; expected a comma-separated list`]);
    });
  });

  describe('jsonVar', () => {
    const validate = (json: unknown): { max: number } => {
      const max = (json as { max?: unknown } | null)?.max;
      if (typeof max !== 'number') throw new Error('max must be a number');
      return { max };
    };
    const schema = { limits: jsonVar('LIMITS', 'Limits.', 'a JSON object {max}', validate) };

    it('returns what the validator returns', () => {
      expect(loadConfig(schema, { LIMITS: '{"max": 3, "ignored": true}' })).toEqual({ limits: { max: 3 } });
    });

    it('reports invalid JSON with the parser message', () => {
      const [problem] = configErrorOf(schema, { LIMITS: '{max: 3}' }).problems;
      expect(problem).toMatch(/^LIMITS="\{max: 3\}" is not valid JSON \(.+\); expected a JSON object \{max\}$/);
    });

    it("reports the validator's message", () => {
      expect(configErrorOf(schema, { LIMITS: '{"max": "3"}' }).problems).toEqual(['LIMITS="{\\"max\\": \\"3\\"}" max must be a number; expected a JSON object {max}']);
    });

    it('is required without a default', () => {
      expect(configErrorOf(schema, {}).problems).toEqual(['LIMITS is required: Limits. (expected a JSON object {max})']);
    });
  });

  describe('loadConfig', () => {
    it('maps schema keys (not variable names) to parsed values', () => {
      const schema = { httpPort: intVar('HTTP_PORT', 'Port.', 3000), brokers: listVar('KAFKA_BROKERS', 'Brokers.', 'k:9092') };
      expect(loadConfig(schema, { HTTP_PORT: '8080' })).toEqual({ httpPort: 8080, brokers: ['k:9092'] });
    });

    it('treats a variable without a default as required, naming it, its description and what is expected', () => {
      const schema = { url: stringVar('DATABASE_URL', 'Postgres connection string.') };
      expect(configErrorOf(schema, {}).problems).toEqual(['DATABASE_URL is required: Postgres connection string. (expected a non-empty string)']);
      expect(loadConfig(schema, { DATABASE_URL: 'postgres://db' })).toEqual({ url: 'postgres://db' });
    });

    it('also validates defaults', () => {
      const schema = { n: intVar('N', 'n', 500, 1, 100) };
      expect(configErrorOf(schema, {}).problems).toEqual(['N="500" is out of range; expected an integer from 1 to 100']);
    });

    it('reports every problem in one ConfigError, naming each variable, in schema order', () => {
      const schema = {
        url: stringVar('DATABASE_URL', 'Postgres connection string.'),
        port: intVar('HTTP_PORT', 'Port.', 3000, 1, 65535),
        ok: stringVar('FINE', 'Fine.', 'x'),
        level: enumVar('LOG_LEVEL', 'Level.', ['info', 'warn'] as const, 'info'),
        verbose: boolVar('VERBOSE', 'Verbose.', false),
      };
      const error = configErrorOf(schema, { HTTP_PORT: 'eighty', LOG_LEVEL: 'loud', VERBOSE: 'yes' });
      expect(error.code).toBe('INVALID_CONFIG');
      expect(error.name).toBe('ConfigError');
      expect(error.problems).toEqual([
        'DATABASE_URL is required: Postgres connection string. (expected a non-empty string)',
        'HTTP_PORT="eighty" is not an integer; expected an integer from 1 to 65535',
        'LOG_LEVEL="loud" is not allowed; expected one of info, warn',
        'VERBOSE="yes" is not a boolean; expected true or false',
      ]);
      expect(error.message).toBe(
        'Invalid configuration:\n'
        + '  - DATABASE_URL is required: Postgres connection string. (expected a non-empty string)\n'
        + '  - HTTP_PORT="eighty" is not an integer; expected an integer from 1 to 65535\n'
        + '  - LOG_LEVEL="loud" is not allowed; expected one of info, warn\n'
        + '  - VERBOSE="yes" is not a boolean; expected true or false\n'
        + 'Fix the variables above (see the configuration table in README.md).',
      );
    });

    it('truncates values longer than 80 characters in messages, and keeps 80 exactly', () => {
      const schema = { n: intVar('N', 'n', undefined) };
      const long = 'x'.repeat(81);
      expect(configErrorOf(schema, { N: long }).problems).toEqual([`N="${'x'.repeat(80)}…" is not an integer; expected an integer from 0 to 9007199254740991`]);
      const exact = 'y'.repeat(80);
      expect(configErrorOf(schema, { N: exact }).problems).toEqual([`N="${exact}" is not an integer; expected an integer from 0 to 9007199254740991`]);
    });

    it('reports an unexpected exception from a custom parser with its text', () => {
      const custom: EnvVar<number> = { name: 'CUSTOM', description: 'c', expected: 'anything', parse: () => { throw new TypeError('boom'); } };
      expect(configErrorOf({ custom }, { CUSTOM: 'v' }).problems).toEqual(['CUSTOM="v" TypeError: boom; expected anything']);
    });

    it('reads process.env when no env is passed', () => {
      const name = 'STREAMGUARD_ENV_VAR_SPEC_PROBE';
      process.env[name] = '42';
      try {
        expect(loadConfig({ n: intVar(name, 'probe', undefined) })).toEqual({ n: 42 });
      } finally {
        delete process.env[name];
      }
    });
  });
});

describe('secret variables', () => {
  it('never echo their value in errors', () => {
    const schema = { password: secret(optionalStringVar('SOME_PASSWORD', 'a password', 16)) };
    expect(() => loadConfig(schema, { SOME_PASSWORD: 'short-secret' })).toThrow(/SOME_PASSWORD=\(hidden\) is shorter than 16 characters/);
    try {
      loadConfig(schema, { SOME_PASSWORD: 'short-secret' });
    } catch (error) {
      expect((error as Error).message).not.toContain('short-secret');
    }
  });
});
