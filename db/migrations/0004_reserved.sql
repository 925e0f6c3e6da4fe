-- 0004 is reserved for another branch of issue 6 (i6-approval). This
-- placeholder keeps the versions contiguous (scripts/embed_migrations.py)
-- so that 0005 can be built and tested on its own branch; the integrator
-- drops this file (and its line in meson.build) when the real 0004 arrives.
SELECT 1;
