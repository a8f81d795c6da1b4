-- The demo's churn watch list and win-back list (docs/dashboard.md#churn-watch-list-and-win-back-list),
-- scored at the last refresh by BG/NBD and Gamma-Gamma fitted over all customers (docs/clv.md):
--  * cxkpi.churn_watch_list: customers the model does not consider gone (P(alive) at least the
--    setting gone_p_alive), ranked by the value still at stake over 52 weeks: what the customer
--    is worth if kept (CLV if alive) minus what the model expects now (CLV);
--  * cxkpi.win_back_list: the customers the model considers gone, ranked by their historic
--    value halved for every year since their last order.
-- The models' parameters and any fit problem are in cxkpi.clv_models.
SELECT cxkpi.setting('gone_p_alive') AS gone_p_alive \gset
\echo 'Churn watch list (cxkpi.churn_watch_list): customers still worth saving, P(alive) >=' :gone_p_alive
\echo '(setting gone_p_alive), ranked by the value at stake over 52 weeks = CLV if kept - CLV expected now:'
SELECT w.watch_rank AS rank, w.customer_id AS customer, w.purchases AS orders,
       to_char(w.historic_value_currency, 'FM$999,990') AS "spend to date",
       w.last_purchase AS "last order", round(w.weeks_since_last_purchase) AS "weeks since",
       to_char(w.p_alive, 'FM0.000') AS "P(alive)",
       to_char(w.clv_52w_currency, 'FM$999,990') AS "CLV 52 weeks",
       to_char(w.clv_if_alive_52w_currency, 'FM$999,990') AS "if kept",
       to_char(w.value_at_stake_52w_currency, 'FM$999,990') AS "at stake",
       coalesce(w.loyalty_tier, '-') AS loyalty
FROM cxkpi.churn_watch_list AS w
ORDER BY w.watch_rank
LIMIT 10;
\echo
\echo 'Win-back list (cxkpi.win_back_list): customers the model considers gone, P(alive) <' :gone_p_alive
\echo 'ranked by spend to date halved for every year since the last order:'
SELECT b.win_back_rank AS rank, b.customer_id AS customer, b.purchases AS orders,
       to_char(b.historic_value_currency, 'FM$999,990') AS "spend to date",
       b.last_purchase AS "last order", round(b.weeks_since_last_purchase) AS "weeks since",
       to_char(b.p_alive, 'FM0.000') AS "P(alive)",
       to_char(b.win_back_score_currency, 'FM$999,990') AS score,
       coalesce(b.loyalty_tier, '-') AS loyalty
FROM cxkpi.win_back_list AS b
ORDER BY b.win_back_rank
LIMIT 10;
