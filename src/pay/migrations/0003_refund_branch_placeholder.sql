-- pay 0003 on the branch i11-refund only: a placeholder that keeps the
-- module's versions contiguous (scripts/embed_migrations.py) while 0003
-- belongs to another wave-2 branch. The integrator DELETES this file
-- (and its line in src/pay/meson.build) when merging that branch.
SELECT 1;
