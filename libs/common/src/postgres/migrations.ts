/**
 * Schema migrations, applied in order, each once, under an advisory lock (so several instances or a Helm
 * hook can start together). Append new migrations; never edit an applied one.
 */
import type { Logger } from '../logging/logger';
import type { Database } from './database';

export interface Migration {
  id: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    id: '0001_initial',
    sql: `
      -- Reference data (enrich reads it)
      CREATE TABLE accounts (
        account_id   text PRIMARY KEY,
        home_country char(2),
        risk_tier    text NOT NULL DEFAULT 'standard',
        opened_at    date,
        updated_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE merchants (
        merchant_id text PRIMARY KEY,
        name        text,
        mcc         text,
        country     char(2),
        risk_score  double precision,
        updated_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE fx_rates (
        currency   char(3) PRIMARY KEY,
        usd_rate   double precision NOT NULL CHECK (usd_rate > 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE blocklist (
        kind       text NOT NULL CHECK (kind IN ('merchant', 'card', 'device', 'ip', 'country')),
        value      text NOT NULL,
        reason     text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, value)
      );

      -- Stream processing state: input offsets and operator state, written in the same transaction as results
      CREATE TABLE consumer_offsets (
        group_id    text NOT NULL,
        topic       text NOT NULL,
        partition   integer NOT NULL,
        next_offset bigint NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic, partition)
      );
      CREATE TABLE operator_state (
        group_id  text NOT NULL,
        partition integer NOT NULL,
        state_key text NOT NULL,
        value     jsonb NOT NULL,
        PRIMARY KEY (group_id, partition, state_key)
      );
      -- Records to publish to Kafka after the transaction that produced them commits (transactional outbox)
      CREATE TABLE outbox (
        id         bigserial PRIMARY KEY,
        producer   text NOT NULL,
        topic      text NOT NULL,
        key        text,
        value      bytea NOT NULL,
        headers    jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX outbox_producer_id ON outbox (producer, id);

      -- Results
      CREATE TABLE window_results (
        definition   text NOT NULL,
        group_key    text NOT NULL,
        window_start timestamptz NOT NULL,
        window_end   timestamptz NOT NULL,
        window_type  text NOT NULL,
        group_fields jsonb NOT NULL,
        agg_values   jsonb NOT NULL,
        event_count  bigint NOT NULL,
        version      integer NOT NULL,
        is_final     boolean NOT NULL,
        emitted_at   timestamptz NOT NULL,
        PRIMARY KEY (definition, group_key, window_start, window_end)
      );
      CREATE INDEX window_results_group_key ON window_results (group_key, window_start DESC);

      CREATE TABLE rules (
        rule_id    text PRIMARY KEY,
        version    integer NOT NULL,
        type       text NOT NULL,
        status     text NOT NULL CHECK (status IN ('active', 'paused')),
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE alerts (
        alert_id     text PRIMARY KEY,
        rule_id      text NOT NULL,
        rule_version integer NOT NULL,
        rule_type    text NOT NULL,
        severity     text NOT NULL,
        account_id   text NOT NULL,
        group_key    text NOT NULL,
        event_ids    text[] NOT NULL,
        occurred_at  timestamptz NOT NULL,
        detected_at  timestamptz NOT NULL,
        explanation  jsonb NOT NULL
      );
      CREATE INDEX alerts_account_time ON alerts (account_id, occurred_at DESC);
      CREATE INDEX alerts_rule_time ON alerts (rule_id, occurred_at DESC);
      CREATE INDEX alerts_time ON alerts (occurred_at DESC);
    `,
  },
  {
    id: '0002_reference_data',
    sql: `
      ALTER TABLE merchants ADD COLUMN category text;
      ALTER TABLE blocklist ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

      -- First event per (account, device): enrich derives "newDevice" from it. Written with ON CONFLICT DO
      -- NOTHING, so a replayed batch finds the same first_event_id and derives the same answer.
      CREATE TABLE account_devices (
        account_id     text NOT NULL,
        device_id      text NOT NULL,
        first_event_id text NOT NULL,
        first_seen_at  timestamptz NOT NULL,
        PRIMARY KEY (account_id, device_id)
      );

      -- Every write to a reference table, by any writer (API, import, psql), notifies
      -- 'streamguard_reference' with '<table>:<key>' so enrich instances drop the cached row at once.
      -- Statement-level with transition tables: a 1000-row import batch sends one '<table>:*' instead of
      -- 1000 notifications. TG_ARGV[0] is the SQL expression of the key.
      CREATE FUNCTION streamguard_notify_reference() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        keys text[];
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          PERFORM pg_notify('streamguard_reference', TG_TABLE_NAME || ':*');
          RETURN NULL;
        ELSIF TG_OP = 'INSERT' THEN
          EXECUTE format('SELECT array_agg(k) FROM (SELECT %s AS k FROM changed_new LIMIT 101) s', TG_ARGV[0]) INTO keys;
        ELSIF TG_OP = 'DELETE' THEN
          EXECUTE format('SELECT array_agg(k) FROM (SELECT %s AS k FROM changed_old LIMIT 101) s', TG_ARGV[0]) INTO keys;
        ELSE
          EXECUTE format('SELECT array_agg(k) FROM (SELECT %1$s AS k FROM changed_new UNION SELECT %1$s FROM changed_old LIMIT 101) s', TG_ARGV[0]) INTO keys;
        END IF;
        IF keys IS NULL THEN
          RETURN NULL; -- the statement changed no row
        END IF;
        -- A payload must stay below 8000 bytes; many or huge keys become "everything in this table".
        IF cardinality(keys) > 100 OR EXISTS (SELECT 1 FROM unnest(keys) AS k WHERE octet_length(k) > 1000) THEN
          PERFORM pg_notify('streamguard_reference', TG_TABLE_NAME || ':*');
        ELSE
          PERFORM pg_notify('streamguard_reference', TG_TABLE_NAME || ':' || k) FROM unnest(keys) AS k;
        END IF;
        RETURN NULL;
      END
      $fn$;

      CREATE TRIGGER accounts_notify_insert AFTER INSERT ON accounts REFERENCING NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('account_id');
      CREATE TRIGGER accounts_notify_update AFTER UPDATE ON accounts REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('account_id');
      CREATE TRIGGER accounts_notify_delete AFTER DELETE ON accounts REFERENCING OLD TABLE AS changed_old
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('account_id');
      CREATE TRIGGER accounts_notify_truncate AFTER TRUNCATE ON accounts
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('');

      CREATE TRIGGER merchants_notify_insert AFTER INSERT ON merchants REFERENCING NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('merchant_id');
      CREATE TRIGGER merchants_notify_update AFTER UPDATE ON merchants REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('merchant_id');
      CREATE TRIGGER merchants_notify_delete AFTER DELETE ON merchants REFERENCING OLD TABLE AS changed_old
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('merchant_id');
      CREATE TRIGGER merchants_notify_truncate AFTER TRUNCATE ON merchants
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('');

      CREATE TRIGGER fx_rates_notify_insert AFTER INSERT ON fx_rates REFERENCING NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('currency::text');
      CREATE TRIGGER fx_rates_notify_update AFTER UPDATE ON fx_rates REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('currency::text');
      CREATE TRIGGER fx_rates_notify_delete AFTER DELETE ON fx_rates REFERENCING OLD TABLE AS changed_old
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('currency::text');
      CREATE TRIGGER fx_rates_notify_truncate AFTER TRUNCATE ON fx_rates
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('');

      CREATE TRIGGER blocklist_notify_insert AFTER INSERT ON blocklist REFERENCING NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('kind || '':'' || value');
      CREATE TRIGGER blocklist_notify_update AFTER UPDATE ON blocklist REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('kind || '':'' || value');
      CREATE TRIGGER blocklist_notify_delete AFTER DELETE ON blocklist REFERENCING OLD TABLE AS changed_old
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('kind || '':'' || value');
      CREATE TRIGGER blocklist_notify_truncate AFTER TRUNCATE ON blocklist
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('');
    `,
  },
  {
    id: '0003_partitioned_outbox',
    sql: `
      -- Outbox rows are numbered per input partition; Kafka holds the "published through seq" marker
      -- (see TransactionalOutbox), so publication is exactly once.
      ALTER TABLE outbox ADD COLUMN source_partition integer NOT NULL DEFAULT 0;
      ALTER TABLE outbox ADD COLUMN seq bigint NOT NULL DEFAULT 0;
      DROP INDEX outbox_producer_id;
      CREATE INDEX outbox_partition_seq ON outbox (producer, source_partition, seq);
      ALTER TABLE consumer_offsets ADD COLUMN outbox_seq bigint NOT NULL DEFAULT 0;
    `,
  },
  {
    id: '0004_service_roles',
    sql: `
      -- Least privilege: one NOLOGIN group role per service with only what it needs. Deployments create a
      -- login user per service IN ROLE the group (see README "Security"); migrations keep running as the owner.
      -- Roles are cluster-wide: created once, if missing. A migrating user without CREATEROLE skips this
      -- (a notice says so) rather than failing the whole schema.
      DO $roles$
      DECLARE r text;
      BEGIN
        FOREACH r IN ARRAY ARRAY['streamguard_ingest', 'streamguard_enrich', 'streamguard_aggregate', 'streamguard_alert', 'streamguard_readonly'] LOOP
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
          END IF;
        END LOOP;
      EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'no CREATEROLE privilege: service roles not created; create them and re-run the grants of migration 0004';
        RETURN;
      END
      $roles$;

      DO $grants$
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streamguard_enrich') THEN RETURN; END IF;
        EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO streamguard_enrich, streamguard_aggregate, streamguard_alert, streamguard_readonly', current_database());
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
        GRANT USAGE ON SCHEMA public TO streamguard_enrich, streamguard_aggregate, streamguard_alert, streamguard_readonly;
        -- ingest: no database access at all (it only talks to Kafka; 0006 later lets it read api_keys).
        -- enrich owns reference data (API and import) and the device history it derives.
        GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, merchants, fx_rates, blocklist, account_devices TO streamguard_enrich;
        -- aggregate and alert: their stage state, offsets and outbox, and their own results.
        GRANT SELECT, INSERT, UPDATE, DELETE ON consumer_offsets, operator_state, outbox TO streamguard_aggregate, streamguard_alert;
        GRANT USAGE ON SEQUENCE outbox_id_seq TO streamguard_aggregate, streamguard_alert;
        GRANT SELECT, INSERT, UPDATE ON window_results TO streamguard_aggregate;
        GRANT SELECT, INSERT, UPDATE, DELETE ON rules TO streamguard_alert;
        GRANT SELECT, INSERT ON alerts TO streamguard_alert;
        -- Grafana's Postgres datasource: read the results, nothing else.
        GRANT SELECT ON alerts, window_results TO streamguard_readonly;
      END
      $grants$;
    `,
  },
  {
    id: '0005_ownership_epoch_and_indexes',
    sql: `
      -- Ownership epoch: every restore of a partition's state takes a new one; commits must still hold it.
      ALTER TABLE consumer_offsets ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
      -- Outbox keys are bytes: a key with a NUL character (any Kafka key is legal) must not fail the batch.
      ALTER TABLE outbox ALTER COLUMN key TYPE bytea USING convert_to(key, 'UTF8');
      -- GET /v1/aggregates?accountId=… (the common query) without a table scan.
      CREATE INDEX window_results_account ON window_results ((group_fields->>'accountId'), window_start DESC);
    `,
  },
  {
    id: '0006_tenants_and_api_keys',
    sql: `
      -- API keys: only a SHA-256 of the whole token is stored (tokens carry 256 random bits, so a fast hash
      -- is as safe as a slow one and keeps verification cheap). Revocation keeps the row for audit.
      CREATE TABLE api_keys (
        key_id         text PRIMARY KEY,
        tenant_id      text NOT NULL,
        name           text NOT NULL DEFAULT '',
        scopes         text[] NOT NULL,
        token_sha256   bytea NOT NULL,
        rate_per_second double precision,
        burst          integer,
        created_at     timestamptz NOT NULL DEFAULT now(),
        revoked_at     timestamptz
      );
      CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);
      -- Every change reaches every service's in-memory key table at once (a revoked key stops working).
      CREATE FUNCTION streamguard_notify_api_keys() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM pg_notify('streamguard_api_keys', TG_OP);
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER api_keys_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_api_keys();

      -- Tenancy: rows written before tenants existed belong to 'default'. A rule without tenant is global.
      ALTER TABLE rules ADD COLUMN tenant_id text;
      ALTER TABLE alerts ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
      CREATE INDEX alerts_tenant_account_time ON alerts (tenant_id, account_id, occurred_at DESC);
      CREATE INDEX alerts_tenant_time ON alerts (tenant_id, occurred_at DESC);
      ALTER TABLE window_results ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
      CREATE INDEX window_results_tenant_account ON window_results (tenant_id, (group_fields->>'accountId'), window_start DESC);
      CREATE INDEX window_results_tenant_time ON window_results (tenant_id, window_start DESC);
      -- Device history is per tenant: one tenant's traffic must not decide another's "newDevice".
      ALTER TABLE account_devices ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
      ALTER TABLE account_devices DROP CONSTRAINT account_devices_pkey;
      ALTER TABLE account_devices ADD PRIMARY KEY (tenant_id, account_id, device_id);

      DO $grants$
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streamguard_ingest') THEN RETURN; END IF;
        -- Every service authenticates API keys from its in-memory copy of this table; ingest reads nothing else.
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO streamguard_ingest', current_database());
        GRANT USAGE ON SCHEMA public TO streamguard_ingest;
        GRANT SELECT ON api_keys TO streamguard_ingest, streamguard_aggregate, streamguard_alert;
        -- enrich hosts the key management API.
        GRANT SELECT, INSERT, UPDATE ON api_keys TO streamguard_enrich;
      END
      $grants$;
    `,
  },
  {
    id: '0007_tenant_accounts_and_rule_scopes',
    sql: `
      -- Account profiles are a tenant's own data: one tenant's accounts must never enrich (or, through rules,
      -- be probed by) another tenant's events. Rows from before tenants belong to 'default'.
      ALTER TABLE accounts ADD COLUMN tenant_id text NOT NULL DEFAULT 'default';
      ALTER TABLE accounts DROP CONSTRAINT accounts_pkey;
      ALTER TABLE accounts ADD PRIMARY KEY (tenant_id, account_id);
      ALTER TABLE accounts ALTER COLUMN tenant_id DROP DEFAULT;
      -- Notifications name an account as '<tenant>:<account>' (tenant ids contain no ':').
      DROP TRIGGER accounts_notify_insert ON accounts;
      DROP TRIGGER accounts_notify_update ON accounts;
      DROP TRIGGER accounts_notify_delete ON accounts;
      CREATE TRIGGER accounts_notify_insert AFTER INSERT ON accounts REFERENCING NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('tenant_id || '':'' || account_id');
      CREATE TRIGGER accounts_notify_update AFTER UPDATE ON accounts REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('tenant_id || '':'' || account_id');
      CREATE TRIGGER accounts_notify_delete AFTER DELETE ON accounts REFERENCING OLD TABLE AS changed_old
        FOR EACH STATEMENT EXECUTE FUNCTION streamguard_notify_reference('tenant_id || '':'' || account_id');

      -- Rule ids are unique per owner (a tenant, or '' for global rules), not across tenants: an id taken by
      -- another tenant must not be discoverable.
      ALTER TABLE rules DROP CONSTRAINT rules_pkey;
      CREATE UNIQUE INDEX rules_owner_id ON rules ((coalesce(tenant_id, '')), rule_id);

      -- Fail closed: a writer that forgets the tenant gets an error, not rows in the legacy tenant.
      ALTER TABLE alerts ALTER COLUMN tenant_id DROP DEFAULT;
      ALTER TABLE window_results ALTER COLUMN tenant_id DROP DEFAULT;
      ALTER TABLE account_devices ALTER COLUMN tenant_id DROP DEFAULT;
      -- Superseded by the tenant-first indexes of 0006.
      DROP INDEX alerts_account_time;
      DROP INDEX window_results_account;
    `,
  },
  {
    id: '0008_stage_input_partitions',
    sql: `
      -- The partition count each Postgres stage's keyed state was built for, per input topic. State is
      -- partitioned like the input: if the topic gains partitions, keys move to partitions whose state lacks
      -- them, so a stage refuses to start on a topic whose count differs (see InputPartitionGuard).
      CREATE TABLE stage_input_partitions (
        group_id text NOT NULL,
        topic text NOT NULL,
        partitions integer NOT NULL CHECK (partitions > 0),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (group_id, topic)
      );
      DO $grants$
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streamguard_aggregate') THEN RETURN; END IF;
        GRANT SELECT, INSERT ON stage_input_partitions TO streamguard_aggregate, streamguard_alert;
        GRANT SELECT ON stage_input_partitions TO streamguard_readonly;
      END
      $grants$;
    `,
  },
];

const LOCK_ID = 4242_2026;

export async function runMigrations(db: Database, logger: Logger): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    await tx.query('CREATE TABLE IF NOT EXISTS schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.id));
    const done: string[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.id)) continue;
      logger.info('applying migration', { migration: migration.id });
      await tx.query(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      done.push(migration.id);
    }
    return done;
  });
}
