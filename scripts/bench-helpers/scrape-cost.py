"""For scripts/bench: the CPU cost of `thplab export --listen` scraped every
INTERVAL seconds. Starts the exporter with the arguments given, makes one
warm-up scrape, then measures the exporter's CPU time (utime + stime of
/proc/PID/stat) over N back-to-back scrapes and over IDLE seconds with no
scrape; prints the CPU per scrape, the idle cost and the share of one core
a scrape every INTERVAL seconds costs.
    scrape-cost.py N IDLE_S INTERVAL_S PORT THPLAB export ARGS..."""
import os, socket, subprocess, sys, time

n, idle, interval, port = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
cmd = sys.argv[5:] + ["--listen", f"127.0.0.1:{port}"]
tick = os.sysconf("SC_CLK_TCK")

def cpu(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick

def scrape():
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(1 << 16):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    return len(data)

p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(600):
        try:
            size = scrape()
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit("the exporter did not answer")
    c0, t0 = cpu(p.pid), time.perf_counter()
    for _ in range(n):
        scrape()
    per_scrape = (cpu(p.pid) - c0) / n
    wall = (time.perf_counter() - t0) / n
    c1 = cpu(p.pid)
    time.sleep(idle)
    idle_share = (cpu(p.pid) - c1) / idle
    share = 100 * (per_scrape / interval + idle_share)
    print(f"{per_scrape * 1000:.0f} ms CPU per scrape ({wall * 1000:.0f} ms wall, {size // 1024} KiB), "
          f"idle {idle_share * 100:.2f}% of a core; a scrape every {interval:g} s: {share:.2f}% of one core (goal < 1%)")
finally:
    p.terminate()
    p.wait(timeout=15)
