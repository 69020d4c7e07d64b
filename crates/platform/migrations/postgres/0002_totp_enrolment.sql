-- A second factor being enrolled: the new secret waits here until a code from it is confirmed.
ALTER TABLE accounts ADD COLUMN totp_pending TEXT;
