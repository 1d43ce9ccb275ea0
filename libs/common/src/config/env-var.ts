/**
 * Declarative environment variables: each is declared once with its parser, default and documentation.
 * The same declarations validate start-up (every bad variable is named in one error) and generate the
 * README's configuration table (`npm run docs:config`), so the docs cannot drift from the code.
 */
export interface EnvVar<T> {
  readonly name: string;
  readonly description: string;
  /** Raw default; `undefined` makes the variable required. */
  readonly defaultValue?: string;
  /** What a valid value looks like, for error messages and docs. */
  readonly expected: string;
  /** Never echo the value (passwords, tokens, URLs with credentials). */
  readonly secret?: boolean;
  parse(raw: string): T;
}

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}\nFix the variables above (see the configuration table in README.md).`);
    this.name = 'ConfigError';
  }
}

class ParseError extends Error {}

function envVar<T>(name: string, description: string, expected: string, parse: (raw: string) => T, defaultValue?: string): EnvVar<T> {
  return { name, description, expected, parse, defaultValue };
}

export function stringVar(name: string, description: string, defaultValue?: string): EnvVar<string> {
  return envVar(name, description, 'a non-empty string', (raw) => {
    if (raw.trim() === '') throw new ParseError('must not be empty');
    return raw;
  }, defaultValue);
}

/**
 * A string that may be left unset (or empty): `undefined` then, and the service decides what that means
 * (say so in `description`). Set, it must have at least `minLength` characters (e.g. a secret).
 */
export function optionalStringVar(name: string, description: string, minLength = 1): EnvVar<string | undefined> {
  return envVar<string | undefined>(name, description, `unset, or a string of at least ${minLength} characters`, (raw) => {
    if (raw === '') return undefined;
    if (raw.trim() === '') throw new ParseError('must not be blank');
    if (raw.length < minLength) throw new ParseError(`is shorter than ${minLength} characters`);
    return raw;
  }, '');
}

/** Marks a variable as secret: its value never appears in error messages. */
export function secret<T>(spec: EnvVar<T>): EnvVar<T> {
  return { ...spec, secret: true };
}

export function intVar(name: string, description: string, defaultValue: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): EnvVar<number> {
  return envVar(name, description, `an integer from ${min} to ${max}`, (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ParseError('is not an integer');
    const value = Number(raw);
    if (value < min || value > max) throw new ParseError(`is out of range`);
    return value;
  }, defaultValue === undefined ? undefined : String(defaultValue));
}

/** An integer that may be left unset (or empty): `undefined` then, and the caller decides (say so in `description`). */
export function optionalIntVar(name: string, description: string, min = 0, max = Number.MAX_SAFE_INTEGER, defaultValue?: number): EnvVar<number | undefined> {
  const required = intVar(name, description, undefined, min, max);
  return envVar<number | undefined>(name, description, `unset, or ${required.expected}`, (raw) => (raw.trim() === '' ? undefined : required.parse(raw)), defaultValue === undefined ? '' : String(defaultValue));
}

export function enumVar<T extends string>(name: string, description: string, values: readonly T[], defaultValue?: T): EnvVar<T> {
  return envVar(name, description, `one of ${values.join(', ')}`, (raw) => {
    if (!values.includes(raw as T)) throw new ParseError('is not allowed');
    return raw as T;
  }, defaultValue);
}

export function boolVar(name: string, description: string, defaultValue: boolean): EnvVar<boolean> {
  return envVar(name, description, 'true or false', (raw) => {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new ParseError('is not a boolean');
  }, String(defaultValue));
}

export function listVar(name: string, description: string, defaultValue: string): EnvVar<string[]> {
  return envVar(name, description, 'a comma-separated list', (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new ParseError('is empty');
    return items;
  }, defaultValue);
}

export function jsonVar<T>(name: string, description: string, expected: string, validate: (json: unknown) => T, defaultValue?: string): EnvVar<T> {
  return envVar(name, description, expected, (raw) => {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw new ParseError(`is not valid JSON (${(error as Error).message})`);
    }
    try {
      return validate(json);
    } catch (error) {
      throw new ParseError((error as Error).message);
    }
  }, defaultValue);
}

export type EnvSchema = Record<string, EnvVar<unknown>>;
export type ConfigOf<S extends EnvSchema> = { [K in keyof S]: S[K] extends EnvVar<infer T> ? T : never };

/** Reads and validates every variable of `schema`; throws one ConfigError naming all the bad ones. */
export function loadConfig<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const raw = env[spec.name] ?? spec.defaultValue;
    if (raw === undefined) {
      problems.push(`${spec.name} is required: ${spec.description} (expected ${spec.expected})`);
      continue;
    }
    try {
      config[key] = spec.parse(raw);
    } catch (error) {
      const reason = error instanceof ParseError ? error.message : String(error);
      const shown = spec.secret ? '(hidden)' : JSON.stringify(raw.length > 80 ? raw.slice(0, 80) + '…' : raw);
      problems.push(`${spec.name}=${shown} ${reason}; expected ${spec.expected}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config as ConfigOf<S>;
}
