-- Saved drafts of applications (草稿): what an applicant typed for an item, sealed, and the
-- files they had attached, kept until they apply, discard it, or thirty days pass.
CREATE TABLE application_drafts (
    account_id  TEXT NOT NULL,
    item_code   TEXT NOT NULL,
    form_sealed BLOB NOT NULL,
    saved_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, item_code)
);
CREATE INDEX application_drafts_saved ON application_drafts (saved_at);

CREATE TABLE application_draft_uploads (
    account_id  TEXT NOT NULL,
    item_code   TEXT NOT NULL,
    material    TEXT NOT NULL,
    upload_id   TEXT NOT NULL,
    PRIMARY KEY (account_id, item_code, material)
);
CREATE INDEX application_draft_uploads_upload ON application_draft_uploads (upload_id);
