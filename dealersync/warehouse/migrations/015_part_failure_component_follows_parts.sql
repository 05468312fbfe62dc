-- "component: when blank, the part's component in `parts`" follows the parts catalogue instead of being
-- fixed when the failure is loaded: head office correcting a part's component (其他 to 控制器) moves the
-- failures reported without one along with it, so the critical-component figures and the batch watch
-- count them under the right component. component_derived says which failures these are.
-- Existing rows are put right from the raw cells they were loaded from (same file, sheet and row); a
-- cell of spaces or invisible characters is blank, as the loader sees it.

ALTER TABLE core.part_failures ADD COLUMN component_derived BOOLEAN DEFAULT false;
COMMENT ON COLUMN core.part_failures.component_derived IS 'True when the sheet left 部件类别 blank: component is then the part''s component in core.parts, updated whenever the part is';

UPDATE core.part_failures AS f SET component_derived = true
FROM raw.part_failures AS r
WHERE r.file_sha256 = f.file_sha256 AND r.sheet = f.sheet AND r.excel_row = f.excel_row
  AND regexp_full_match(coalesce(r.component, ''), '[\s\p{Z}\x{00AD}\x{200B}-\x{200F}\x{2060}-\x{2064}\x{FEFF}]*');

UPDATE core.part_failures AS f SET component = part.component
FROM core.parts AS part
WHERE f.component_derived AND part.part_no = f.part_no AND f.component IS DISTINCT FROM part.component;

COMMENT ON COLUMN core.part_failures.component IS 'Component; when the sheet leaves it blank (component_derived): the part''s component in core.parts, following it when the part changes [部件类别]; codes: motor=电机, controller=控制器, rear_axle=后桥, differential=差速器, frame=车架, front_shock=前减震, rim_weld=轮辋焊合, other=其他';
