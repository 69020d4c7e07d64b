-- The operations view measures, once a minute, how many applications each department has
-- open and overdue: this index holds the unfinished ones only (the finished states named as
-- the measuring query names them), so the count reads what is open, never the millions done.
CREATE INDEX applications_open ON applications (department_id, due_day, state)
    WHERE state NOT IN ('delivered', 'rejected', 'denied', 'withdrawn');
