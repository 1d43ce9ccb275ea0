/** Named readiness checks (Kafka connected, Postgres reachable…) that `/readyz` evaluates. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const results: Record<string, boolean> = {};
    await Promise.all([...this.checks].map(async ([name, check]) => {
      try {
        results[name] = await check();
      } catch {
        results[name] = false;
      }
    }));
    return { ready: Object.values(results).every(Boolean), checks: results };
  }
}
