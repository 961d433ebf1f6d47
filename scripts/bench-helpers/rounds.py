"""Runs several commands in turn, round after round, for scripts/bench: on a
host whose load drifts (a VM), commands timed one after another in the same
round see the same load, so the ratio within a round is steadier than a
ratio of two bests taken minutes apart.

usage: rounds.py ROUNDS NAME CMD... [-- NAME CMD...]...
  each command is given as NAME followed by its words, commands separated
  by '--'; ratios are to the first command, or to the one named REF where
  a NAME is written NAME@REF.
prints one line per command, tab-separated:
  name, best ms, median ms, peak RSS MiB, median of the per-round ratio to
  the reference, lowest and highest per-round ratio
"""
import os, statistics, subprocess, sys, time


def split(argv):
    cmds, cur = [], []
    for a in argv:
        if a == "--":
            cmds.append(cur)
            cur = []
        else:
            cur.append(a)
    cmds.append(cur)
    return [(c[0].split("@")[0], c[0].split("@")[1] if "@" in c[0] else None, c[1:]) for c in cmds if c]


def run_once(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"rounds.py: {' '.join(cmd)} failed")
    return dt, usage.ru_maxrss


def main():
    rounds = int(sys.argv[1])
    cmds = split(sys.argv[2:])
    times = {n: [] for n, _, _ in cmds}
    rss = {n: 0 for n, _, _ in cmds}
    for _ in range(rounds):
        for n, _, c in cmds:
            dt, r = run_once(c)
            times[n].append(dt)
            rss[n] = max(rss[n], r)
    for n, ref, _ in cmds:
        ratios = sorted(a / b for a, b in zip(times[n], times[ref or cmds[0][0]]))
        print("\t".join([n, f"{min(times[n]) * 1000:.1f}", f"{statistics.median(times[n]) * 1000:.1f}",
                         f"{rss[n] / 1024:.1f}", f"{statistics.median(ratios):.3f}",
                         f"{ratios[0]:.3f}", f"{ratios[-1]:.3f}"]))


if __name__ == "__main__":
    main()
