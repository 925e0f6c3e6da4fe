-- pay 0004: a placeholder on branch i11-agree only, so that 0005 builds before
-- the other wave-2 branches' 0003/0004 are merged. The integrator DROPS this file
-- (and its line in src/pay/meson.build) when merging.
SELECT 1;
