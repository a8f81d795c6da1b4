-- cxkpi install script, assembled by the Makefile from src/*.sql (one file per KPI family).
\echo Use "CREATE EXTENSION cxkpi" to load this file. \quit

-- Conventions of every summary type below:
--  * the summary is the build aggregate's state type, with a combine function, so parallel
--    query, Citus and postgres_fdw merge partial results;
--  * text I/O is lossless and starts with a format version ("(v1,..."); binary send/recv
--    validate exactly like text input (22P02 / 22P03);
--  * accessors are IMMUTABLE STRICT PARALLEL SAFE; a ratio over no responses is NULL.
