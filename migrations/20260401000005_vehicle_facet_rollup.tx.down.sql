DROP TRIGGER IF EXISTS vehicle_facet_rollup_truncated ON vehicles;
DROP TRIGGER IF EXISTS vehicle_facet_rollup_updated ON vehicles;
DROP TRIGGER IF EXISTS vehicle_facet_rollup_deleted ON vehicles;
DROP TRIGGER IF EXISTS vehicle_facet_rollup_inserted ON vehicles;
DROP FUNCTION IF EXISTS vehicle_facet_rollup_truncated();
DROP FUNCTION IF EXISTS vehicle_facet_rollup_updated();
DROP FUNCTION IF EXISTS vehicle_facet_rollup_deleted();
DROP FUNCTION IF EXISTS vehicle_facet_rollup_inserted();
DROP TABLE IF EXISTS vehicle_facet_rollup;
