//! What PostgreSQL needs beyond the shared migrations: the few statements it runs in another
//! form, the SQLite functions the store's SQL uses, given under the same names, and each
//! migration's text translated (`db::pg_ddl`).
/// Statements of the migrations that PostgreSQL runs in another form: (migration number,
/// SQLite's text, PostgreSQL's).
pub(super) const PG_REPLACE: &[(usize, &str, &str)] = &[
    (
        11,
        "INSERT OR REPLACE INTO meta (key, value) SELECT 'seal.clear', '1' WHERE EXISTS (SELECT 1 FROM tickets);",
        "INSERT INTO meta (key, value) SELECT 'seal.clear', '1' WHERE EXISTS (SELECT 1 FROM tickets)
        ON CONFLICT (key) DO UPDATE SET value = excluded.value;",
    ),
    // A row belongs to the gateway whose writer inserted it (store::gateways).
    (
        18,
        "ALTER TABLE outbox ADD COLUMN owner TEXT;",
        "ALTER TABLE outbox ADD COLUMN owner TEXT DEFAULT current_setting('minhu.gateway', true);",
    ),
    // json_extract gives text on PostgreSQL (see PG_COMPAT); these are numbers and booleans.
    (16, "COALESCE(json_extract(", "COALESCE(json_int("),
];

/// SQLite's JSON functions the store's statements use, given to PostgreSQL under the same
/// names so that the statements stay one text: `json_extract(doc, '$.a.b')` (as text),
/// `json_each(array)` (its `value`s as text), `json_int` (a number or boolean as SQLite's
/// `json_extract` gives it, for migrations), and the two-argument `max` and `min` (PostgreSQL's
/// `GREATEST` and `LEAST`); `minhu_now_ms()`, the database's clock that gateways' heartbeats and
/// leases are counted on. And where PostgreSQL keeps the schema version, and the sequences
/// gateways take blocks of ticket, case and dispatch numbers from (`ids`).
pub(super) const PG_COMPAT: &str = r#"
CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text
    LANGUAGE sql IMMUTABLE AS
    $$ SELECT (doc::jsonb) #>> string_to_array(substr(path, 3), '.') $$;
CREATE OR REPLACE FUNCTION json_int(doc text, path text) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS
    $$ SELECT CASE jsonb_typeof(v) WHEN 'boolean' THEN CASE WHEN v = 'true'::jsonb THEN 1 ELSE 0 END
                                   WHEN 'number' THEN (v #>> '{}')::bigint END
         FROM (SELECT (doc::jsonb) #> string_to_array(substr(path, 3), '.') AS v) s $$;
CREATE OR REPLACE FUNCTION json_each(doc text) RETURNS TABLE (value text)
    LANGUAGE sql IMMUTABLE AS
    $$ SELECT jsonb_array_elements_text(doc::jsonb) $$;
CREATE OR REPLACE FUNCTION minhu_now_ms() RETURNS bigint
    LANGUAGE sql VOLATILE AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;
CREATE OR REPLACE FUNCTION max(a bigint, b bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$ SELECT GREATEST(a, b) $$;
CREATE OR REPLACE FUNCTION min(a bigint, b bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE AS $$ SELECT LEAST(a, b) $$;
CREATE TABLE IF NOT EXISTS minhu_schema (version BIGINT NOT NULL);
CREATE SEQUENCE IF NOT EXISTS minhu_ticket_numbers INCREMENT BY 100;
CREATE SEQUENCE IF NOT EXISTS minhu_case_numbers INCREMENT BY 100;
CREATE SEQUENCE IF NOT EXISTS minhu_dispatch_numbers INCREMENT BY 100;
"#;

/// Migration `n`'s text for PostgreSQL.
pub(super) fn pg_migration(n: usize, sql: &str) -> String {
    let mut sql = sql.to_owned();
    for (m, from, to) in PG_REPLACE {
        if *m == n {
            sql = sql.replace(from, to);
        }
    }
    crate::db::pg_ddl(&sql)
}

#[cfg(test)]
mod pg_text_tests {
    /// Every replacement still finds its text (a migration edited by mistake would silently
    /// keep SQLite's statement on PostgreSQL).
    #[test]
    fn every_replacement_applies() {
        for (n, from, _) in super::PG_REPLACE {
            assert!(
                super::super::MIGRATIONS[n - 1].contains(from),
                "migration {n}"
            );
        }
    }
}
