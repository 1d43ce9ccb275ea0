/**
 * The README's configuration table, generated from the env declarations the services validate at start-up,
 * so the docs cannot drift from the code. `npm run docs:config` rewrites it in README.md; a unit test fails
 * when README.md is stale.
 */
/* eslint-disable @nx/enforce-module-boundaries -- the docs generator is the one tool that reads every app's config declaration */
import type { EnvVar } from '@streamguard/common';
import { aggregateEnv } from '../../../apps/aggregate/src/aggregate.config';
import { alertEnv } from '../../../apps/alert/src/alert.config';
import { enrichEnv } from '../../../apps/enrich/src/enrich.config';
import { ingestEnv } from '../../../apps/ingest/src/ingest.config';
/* eslint-enable @nx/enforce-module-boundaries */
import { stackEnv } from '../../stack/src/stack.config';

export const TABLE_START = '<!-- config-table:start -->';
export const TABLE_END = '<!-- config-table:end -->';

const SOURCES: Array<[string, Record<string, EnvVar<unknown>>]> = [
  ['ingest', ingestEnv], ['enrich', enrichEnv], ['aggregate', aggregateEnv], ['alert', alertEnv], ['npm start', stackEnv],
];

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderConfigTable(): string {
  const rows = new Map<string, { spec: EnvVar<unknown>; users: string[] }>();
  for (const [user, schema] of SOURCES) {
    for (const spec of Object.values(schema)) {
      const row = rows.get(spec.name) ?? { spec, users: [] };
      row.users.push(user);
      rows.set(spec.name, row);
    }
  }
  const lines = ['| Variable | Used by | Default | Expected | Meaning |', '|---|---|---|---|---|'];
  for (const { spec, users } of [...rows.values()].sort((a, b) => a.spec.name.localeCompare(b.spec.name))) {
    const defaultValue = spec.name === 'INSTANCE_ID' ? 'hostname'
      : spec.defaultValue === undefined ? '(required)'
        : spec.defaultValue === '' ? '(unset)'
          : spec.defaultValue.length > 40 ? '(see below)' : `\`${spec.defaultValue}\``;
    lines.push(`| \`${spec.name}\` | ${users.length === 4 ? 'all services' : users.join(', ')} | ${cell(defaultValue)} | ${cell(spec.expected)} | ${cell(spec.description)} |`);
  }
  return lines.join('\n');
}

export function replaceTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md needs the markers ${TABLE_START} … ${TABLE_END}`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}
