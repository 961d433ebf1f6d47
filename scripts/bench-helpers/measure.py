"""Runs a command N times and prints its best wall time and the peak RSS of
its children (getrusage), for scripts/bench."""
import resource, subprocess, sys, time

def run(cmd, repeat):
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return best, rss_kb

if __name__ == "__main__":
    repeat = int(sys.argv[1])
    best, rss = run(sys.argv[2:], repeat)
    print(f"{best * 1000:.1f} ms best of {repeat}, peak RSS {rss / 1024:.1f} MiB")
