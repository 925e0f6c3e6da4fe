-- dispute 0004, PostgreSQL part: round joins dispute_reminder's primary
-- key (the one 0001 made, named by PostgreSQL's default).
ALTER TABLE dispute_reminder DROP CONSTRAINT dispute_reminder_pkey;
ALTER TABLE dispute_reminder ADD PRIMARY KEY (dispute_id, kind, round);
