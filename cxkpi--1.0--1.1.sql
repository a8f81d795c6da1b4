-- cxkpi 1.0 -> 1.1 upgrade script (ALTER EXTENSION cxkpi UPDATE).
\echo Use "ALTER EXTENSION cxkpi UPDATE TO '1.1'" to load this file. \quit

-- Rules (docs/operations.md#upgrading):
--  * every change of the 1.1 SQL surface (src/*.sql) is repeated here, so that 1.0 + this
--    script gives exactly the schema of a fresh 1.1 install (test/shell/upgrade.sh compares
--    pg_dump --schema-only of both, and the scorecard of both on the same data);
--  * nothing a user may depend on is dropped; user rows (data tables, targets, settings, the
--    alert outbox and the open alert states) are kept;
--  * new columns of existing tables are added at the end (ALTER TABLE ... ADD COLUMN), and the
--    fresh install script declares them in the same place.
