import type { ExecutionContext } from '@nestjs/common';
import { ApiError } from '@streamguard/common';
import { AdminTokenGuard } from './admin-token.guard';

const TOKEN = 'correct-horse-battery-staple';

function contextWith(authorization?: string | string[]): ExecutionContext {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function errorOf(guard: AdminTokenGuard, authorization?: string | string[]): { status: number; code: string; headers: Record<string, string> } {
  try {
    guard.canActivate(contextWith(authorization));
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const e = error as ApiError;
    return { status: e.getStatus(), code: e.code, headers: e.headers };
  }
  throw new Error('expected the guard to refuse');
}

describe('AdminTokenGuard', () => {
  it('lets the right bearer token through (scheme case-insensitive)', () => {
    const guard = new AdminTokenGuard(TOKEN);
    expect(guard.canActivate(contextWith(`Bearer ${TOKEN}`))).toBe(true);
    expect(guard.canActivate(contextWith(`bearer ${TOKEN}`))).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['a wrong token', 'Bearer wrong'],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['the token plus a character', `Bearer ${TOKEN}x`],
    ['another scheme', `Basic ${TOKEN}`],
    ['the bare token', TOKEN],
    ['an empty bearer', 'Bearer '],
    ['a repeated header', [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]],
  ])('answers 401 with WWW-Authenticate for %s', (_name, header) => {
    expect(errorOf(new AdminTokenGuard(TOKEN), header)).toEqual({ status: 401, code: 'UNAUTHORIZED', headers: { 'WWW-Authenticate': 'Bearer' } });
  });

  it('answers 503 saying to set ADMIN_API_TOKEN when it is unset, whatever the request carries', () => {
    const guard = new AdminTokenGuard(undefined);
    for (const header of [undefined, 'Bearer anything', 'Bearer ']) {
      expect(errorOf(guard, header)).toMatchObject({ status: 503, code: 'ADMIN_API_DISABLED' });
    }
    expect(() => guard.canActivate(contextWith())).toThrow(ApiError);
    try {
      guard.canActivate(contextWith());
    } catch (error) {
      expect((error as ApiError).getResponse()).toEqual({ error: { code: 'ADMIN_API_DISABLED', message: expect.stringContaining('set ADMIN_API_TOKEN'), details: undefined } });
    }
  });
});
