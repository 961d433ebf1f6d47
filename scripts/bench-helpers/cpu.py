"""For scripts/bench: runs a command (a `watch`) for two durations, appending
`--duration S` to it, and prints the CPU time each run used as a share of
one core, then the steady-state share: the extra CPU of the longer run over
its extra wall time, which leaves out start-up and the full classification
at the first and the last sample.
    cpu.py SHORT_S LONG_S COMMAND..."""
import resource, subprocess, sys, time

def run(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall

short, long_ = sys.argv[1], sys.argv[2]
cpu_s, wall_s = run(sys.argv[3:] + ["--duration", short])
cpu_l, wall_l = run(sys.argv[3:] + ["--duration", long_])
steady = 100 * (cpu_l - cpu_s) / (wall_l - wall_s)
print(f"{cpu_s:.2f} s CPU in {wall_s:.1f} s, {cpu_l:.2f} s in {wall_l:.1f} s; steady state {steady:.1f}% of one core")
