import { ConfigError, loadConfig } from '@streamguard/common';
import { enrichEnv } from './enrich.config';

describe('enrich config: ADMIN_API_TOKEN', () => {
  it.each([[{}], [{ ADMIN_API_TOKEN: '' }]])('is undefined (API answers 503) when unset or empty: %p', (env) => {
    expect(loadConfig(enrichEnv, env).adminApiToken).toBeUndefined();
  });

  it('keeps a token of 16 or more characters as it is', () => {
    expect(loadConfig(enrichEnv, { ADMIN_API_TOKEN: 'x'.repeat(16) }).adminApiToken).toBe('x'.repeat(16));
  });

  it.each([
    ['too short', 'short-token', 'is shorter than 16 characters'],
    ['blank', '   ', 'must not be blank'],
  ])('stops start-up for a %s token, naming the variable', (_name, token, reason) => {
    expect(() => loadConfig(enrichEnv, { ADMIN_API_TOKEN: token })).toThrow(ConfigError);
    try {
      loadConfig(enrichEnv, { ADMIN_API_TOKEN: token });
    } catch (error) {
      // A secret: the value itself never appears in the message.
      expect((error as ConfigError).problems).toEqual([`ADMIN_API_TOKEN=(hidden) ${reason}; expected unset, or a string of at least 16 characters`]);
    }
  });
});
