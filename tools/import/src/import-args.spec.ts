import { parseImportArgs, USAGE } from './import-args';

describe('parseImportArgs', () => {
  it('reads the kind, the file and its format; accounts need --tenant (before, after or as --tenant=)', () => {
    expect(parseImportArgs(['accounts', 'a.csv', '--tenant', 'acme'])).toEqual({ ok: true, args: { kind: 'accounts', path: 'a.csv', format: 'csv', tenantId: 'acme' } });
    expect(parseImportArgs(['--tenant', 'acme', 'accounts', 'a.ndjson'])).toEqual({ ok: true, args: { kind: 'accounts', path: 'a.ndjson', format: 'ndjson', tenantId: 'acme' } });
    expect(parseImportArgs(['accounts', '--tenant=acme-2', 'a.jsonl'])).toEqual({ ok: true, args: { kind: 'accounts', path: 'a.jsonl', format: 'ndjson', tenantId: 'acme-2' } });
    expect(parseImportArgs(['merchants', 'm.csv'])).toEqual({ ok: true, args: { kind: 'merchants', path: 'm.csv', format: 'csv', tenantId: undefined } });
  });

  it.each([
    [['accounts', 'a.csv'], 'accounts belong to a tenant: add --tenant <id>'],
    [['accounts', 'a.csv', '--tenant'], '--tenant needs a tenant id'],
    [['accounts', 'a.csv', '--tenant='], '--tenant needs a tenant id'],
    [['accounts', 'a.csv', '--tenant', '--other'], '--tenant needs a tenant id'],
    [['accounts', 'a.csv', '--tenant', 'a', '--tenant', 'b'], '--tenant given twice'],
    [['accounts', 'a.csv', '--tenant', 'Acme'], 'tenant "Acme" is not a valid tenant id'],
    [['accounts', 'a.csv', '--tenant', 'a:b'], 'tenant "a:b" is not a valid tenant id'],
    [['merchants', 'm.csv', '--tenant', 'acme'], 'merchants are platform data shared by all tenants: --tenant applies to accounts only'],
    [['fx-rates', 'f.csv', '--tenant=acme'], 'fx-rates are platform data shared by all tenants'],
    [['blocklist', 'b.csv', '--tenant', 'acme'], 'blocklist are platform data shared by all tenants'],
    [['widgets', 'x.csv'], 'unknown kind "widgets"'],
    [['accounts', 'x.json', '--tenant', 'acme'], 'name it *.csv or *.ndjson'],
    [['accounts'], 'a kind and a file are required'],
    [[], 'a kind and a file are required'],
    [['accounts', 'a.csv', 'b.csv', '--tenant', 'acme'], 'unexpected argument(s): b.csv'],
    [['accounts', 'a.csv', '--tennant', 'acme'], 'unknown option "--tennant"'],
  ])('refuses %p', (argv, message) => {
    const result = parseImportArgs(argv);
    expect(result).toEqual({ ok: false, message: expect.stringContaining(message) });
    expect(result.ok || result.message.endsWith(`\n${USAGE}`)).toBe(true);
  });
});
