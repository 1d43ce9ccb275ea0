import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigTable, replaceTable } from './config-table';

describe('README configuration table', () => {
  it('matches the env declarations (run `npm run docs:config` after changing one)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(replaceTable(readme, renderConfigTable())).toEqual(readme);
  });

  it('lists every variable once with its default', () => {
    const table = renderConfigTable();
    expect(table.match(/^\| `KAFKA_BROKERS` \| all services \| `127\.0\.0\.1:9092` \|/m)).not.toBeNull();
    expect(table.split('\n').filter((l) => l.startsWith('| `DATABASE_URL`'))).toHaveLength(1);
  });
});
