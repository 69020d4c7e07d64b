-- Where and until when a form is collected: the grassroots units it is sent to (a JSON array
-- of township or village codes; none means every unit of the project's region), the day it
-- opens and the day it is due. An app user collects for one unit; a submission keeps the
-- unit it was collected for, so that results roll up village → township → county.
ALTER TABLE collect_forms ADD COLUMN target_regions TEXT;
ALTER TABLE collect_forms ADD COLUMN opens_day TEXT;
ALTER TABLE collect_actors ADD COLUMN region_code TEXT;
ALTER TABLE collect_submissions ADD COLUMN region_code TEXT;
CREATE INDEX collect_submissions_unit ON collect_submissions (project_id, xml_form_id, region_code);
