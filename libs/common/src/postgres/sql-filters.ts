/** Builds a WHERE clause from optional filters with numbered parameters: `filters.add('col = ?', value)`. */
export class SqlFilters {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  /** Adds `condition` (with one `?` placeholder) when `value` is defined. */
  add(condition: string, value: unknown): this {
    if (value === undefined) return this;
    this.params.push(value);
    this.conditions.push(condition.replace('?', `$${this.params.length}`));
    return this;
  }

  /** `WHERE …` or an empty string. */
  where(): string {
    return this.conditions.length > 0 ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }

  /** Adds a trailing parameter (e.g. LIMIT) and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}
