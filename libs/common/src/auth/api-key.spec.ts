import { generateApiKey, hashToken, keyIdOf, parseScopes, checkTenantId, tokenMatches, ApiKeyValidationError } from './api-key';

describe('API key tokens', () => {
  it('are sg_<16 hex key id>_<43 base64url secret>, different every time', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.token).toMatch(/^sg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(keyIdOf(a.token)).toBe(a.keyId);
  });

  it('match only their own hash', () => {
    const { token, tokenSha256 } = generateApiKey();
    expect(tokenMatches(token, tokenSha256)).toBe(true);
    expect(tokenMatches(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, tokenSha256)).toBe(false);
    expect(tokenMatches(token, hashToken('other'))).toBe(false);
    expect(tokenMatches(token, new Uint8Array(3))).toBe(false);
  });

  it.each(['', 'sg_', 'sg_xyz_abc', `sg_${'0'.repeat(15)}_${'a'.repeat(43)}`, `sg_${'0'.repeat(16)}_${'a'.repeat(42)}`, `Sg_${'0'.repeat(16)}_${'a'.repeat(43)}`])(
    'has no key id when malformed: %p', (token) => {
      expect(keyIdOf(token)).toBeUndefined();
    });
});

describe('scopes and tenants', () => {
  it('parses a comma list of known scopes, without duplicates', () => {
    expect(parseScopes('ingest, read,ingest')).toEqual(['ingest', 'read']);
    expect(parseScopes(['admin'])).toEqual(['admin']);
  });

  it.each([[''], ['write'], ['ingest,root']])('refuses %p naming the allowed scopes', (text) => {
    expect(() => parseScopes(text)).toThrow(ApiKeyValidationError);
    expect(() => parseScopes(text)).toThrow(/ingest, read, admin/);
  });

  it.each(['acme', 'a', 'tenant-1', 'x_y', '0abc'])('accepts tenant id %p', (id) => expect(() => checkTenantId(id)).not.toThrow());
  it.each(['', 'Acme', '-a', 'a b', 'a/b', 'x'.repeat(64), 'ü'])('refuses tenant id %p', (id) => expect(() => checkTenantId(id)).toThrow(ApiKeyValidationError));
});
