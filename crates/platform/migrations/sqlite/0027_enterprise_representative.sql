-- An enterprise's legal representative (法定代表人), a person registered here. The enterprise's
-- account recovers through the representative's own verified channel (the phone on their
-- record), as a citizen's does through theirs; no administrator resets it.
ALTER TABLE enterprises ADD COLUMN representative_id TEXT REFERENCES persons(id);
