-- The forecasts' share of the dashboard refresh (docs/performance.md#forecasts-in-the-refresh): run on a
-- copy of the sample database (CREATE DATABASE x TEMPLATE cxkpi_sample); every change is rolled back.
\timing on
-- 1. nothing changed
CALL cxkpi.refresh_dashboard();
CALL cxkpi.refresh_dashboard();
-- 2. the forecasts' share of it
SELECT cxkpi.forecasts_maintain(false, now());
-- 3. every series refitted (a new complete day or week)
BEGIN;
SELECT cxkpi.forecasts_maintain(true, now());
ROLLBACK;
-- 4. one late ticket inside the windows: the refresh refits the 8 ticket series
BEGIN;
INSERT INTO cxkpi.support_tickets (ticket_id, channel, created_at) VALUES ((SELECT max(ticket_id) + 1 FROM cxkpi.support_tickets), 'email', '2025-12-10 10:00+00');
CALL cxkpi.refresh_dashboard();
ROLLBACK;
