/** Start-up progress lines for humans, on stderr so they never mix with a service's JSON logs. */
export function step(message: string): void {
  process.stderr.write(`\u001b[36m▸\u001b[0m ${message}\n`);
}

export function done(message: string): void {
  process.stderr.write(`\u001b[32m✔\u001b[0m ${message}\n`);
}

export function fail(message: string): never {
  process.stderr.write(`\u001b[31m✖\u001b[0m ${message}\n`);
  process.exit(1);
}

/**
 * Thrown by a {@link waitFor} check to end the wait at once (the process being waited for has exited);
 * any other error from a check (connection refused…) only means "not ready yet".
 */
export class StartupFailure extends Error {}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await check().catch((error: unknown) => {
      if (error instanceof StartupFailure) throw error;
      return false;
    });
    if (ready) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s`);
}
