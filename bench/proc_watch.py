#!/usr/bin/python3
"""bench/proc_watch.py: samples a process's memory during a benchmark.

    proc_watch.py --pid PID --region-bytes N [--interval 0.02]

Until SIGTERM/SIGINT (or until PID exits) it reads, every --interval
seconds, /proc/PID/status (VmRSS, VmHWM) and /proc/PID/maps, and counts the
Argon2id work areas mapped at that moment: libsodium mmap()s each hash's
memory (memlimit bytes, read-write, anonymous) and unmaps it afterwards, so
the read-write anonymous mappings of at least --region-bytes, divided by
--region-bytes (the kernel may merge neighbours), are the hashes in flight.
It is a sampled lower bound: a hash shorter than the interval can be missed.
anfud has no endpoint for iam/pwhash's own peak counter.

On exit prints one line for bench/run.sh:
    samples=N rss_max_kib=N hwm_kib=N argon2_inflight_max=N
Not a test (STYLE.md). Trusts /proc only.
"""
import argparse
import signal
import sys
import time

stop = False


def on_signal(_sig, _frame):
    global stop
    stop = True


def status_kib(pid, keys):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in keys:
                out[k] = int(v.split()[0])
    return out


def inflight(pid, region):
    total = 0
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            parts = line.split()
            # address perms offset dev inode [path]: anonymous = no path
            if len(parts) != 5 or not parts[1].startswith("rw"):
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if hi - lo >= region:
                total += (hi - lo) // region
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--region-bytes", type=int, required=True)
    ap.add_argument("--interval", type=float, default=0.02)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    n = rss_max = hwm = peak = 0
    while not stop:
        try:
            st = status_kib(a.pid, ("VmRSS", "VmHWM"))
            k = inflight(a.pid, a.region_bytes)
        except (OSError, ValueError):
            break
        n += 1
        rss_max = max(rss_max, st.get("VmRSS", 0))
        hwm = max(hwm, st.get("VmHWM", 0))
        peak = max(peak, k)
        time.sleep(a.interval)
    print("samples=%d rss_max_kib=%d hwm_kib=%d argon2_inflight_max=%d" % (n, rss_max, hwm, peak))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
