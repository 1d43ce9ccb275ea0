import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local-infra/src/paths';
import { renderConfigTable, replaceTable } from './config-table';

const readmePath = join(REPO_ROOT, 'README.md');
writeFileSync(readmePath, replaceTable(readFileSync(readmePath, 'utf8'), renderConfigTable()));
process.stderr.write('README.md configuration table updated\n');
