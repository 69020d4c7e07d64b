-- What a form's answers add up to, per grassroots unit, kept as submissions are stored so that
-- roll-ups never read the sealed instances: for a choice question a count per choice; for a
-- number question the count and the sum (`value` empty). `region_code` is empty for devices
-- without a unit. Only counts and sums are kept here; they are shown with small cells hidden.
CREATE TABLE collect_tallies (
    project_id     BIGINT NOT NULL,
    xml_form_id    TEXT NOT NULL,
    region_code    TEXT NOT NULL,
    field          TEXT NOT NULL,
    value          TEXT NOT NULL,
    count          BIGINT NOT NULL,
    total          DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (project_id, xml_form_id, region_code, field, value)
);
