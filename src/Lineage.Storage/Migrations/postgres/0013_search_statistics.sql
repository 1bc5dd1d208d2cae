-- Searches filter on a param's or tag's key and value together (params.model = 'rf'). The two are
-- strongly correlated, and estimated as independent PostgreSQL undercounted such matches ~20×, then
-- chose to hash every match instead of walking the ordering metric's index for one page.
-- Multi-column statistics give the planner the joint frequencies.
CREATE STATISTICS IF NOT EXISTS params_key_value (mcv, dependencies) ON key, value FROM params;
CREATE STATISTICS IF NOT EXISTS run_tags_key_value (mcv, dependencies) ON key, value FROM run_tags;
CREATE STATISTICS IF NOT EXISTS experiment_tags_key_value (mcv, dependencies) ON key, value FROM experiment_tags;
ANALYZE params;
ANALYZE run_tags;
ANALYZE experiment_tags;
