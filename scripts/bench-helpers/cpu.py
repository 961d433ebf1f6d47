"""Runs a command once and prints the CPU time it used as a share of one
core over its wall time, for scripts/bench."""
import resource, subprocess, sys, time

t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
u = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = u.ru_utime + u.ru_stime
print(f"{cpu:.2f} s CPU over {wall:.2f} s wall = {100 * cpu / wall:.1f}% of one core")
