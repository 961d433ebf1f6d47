// The references for scripts/bench.
//   baseline PID START_HEX LENGTH
//       reads the pagemap entries of one range of a process sequentially in
//       1 MiB chunks and counts the present pages (the baseline)
//   baseline --floor PID START_HEX LENGTH
//       also reads /proc/kpageflags of the present PFNs of the range's second
//       half (the small pages of the holder's dense shape; its PMD-mapped
//       first half needs none, as PAGEMAP_SCAN tells thplab), in runs of
//       consecutive PFNs, and /proc/PID/smaps on a second thread: the least
//       the kernel must do for an exact classification with its smaps
//       cross-check, with none of thplab's own work
//   baseline --threads N PID START_HEX LENGTH
//       the reads thplab makes, in C, on N threads: the range cut into
//       64 MiB chunks, each PAGEMAP_SCAN'd, the pagemap entries of its
//       present ranges not PMD-mapped read and the kpageflags of their PFNs
//       in runs; smaps on one more thread. What thplab could reach were its
//       own work (start, classification, output) free
//   baseline --floor-all
//       the floor of every process of the machine, one after another: its
//       maps; per VMA, PAGEMAP_SCAN (6.7+) for the present, swapped and
//       PMD-mapped ranges, the pagemap entries of the present ranges not
//       PMD-mapped and the kpageflags of their PFNs in runs; smaps on a
//       second thread meanwhile. Its wall time is the sum of the
//       per-process floors, without a process start for each.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/ioctl.h>

#define CHUNK 131072
#define PFN_MASK ((1ULL << 55) - 1)

static char smaps_path[64];

// Reads /proc/PID/smaps whole. `tolerant` non-NULL: a process gone
// meanwhile is skipped (--floor-all); else it is an error.
static void *read_smaps(void *tolerant) {
    static char buf[1 << 20];
    int fd = open(smaps_path, O_RDONLY);
    if (fd < 0) {
        if (tolerant) return NULL;
        perror(smaps_path);
        exit(1);
    }
    while (read(fd, buf, sizeof buf) > 0) {}
    close(fd);
    return NULL;
}

struct pm_scan_arg { uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages,
                     category_inverted, category_mask, category_anyof_mask, return_mask; };
struct page_region { uint64_t start, end, categories; };
#define PAGEMAP_SCAN_IOCTL _IOWR('f', 16, struct pm_scan_arg)
#define IS_PRESENT (1 << 3)
#define IS_SWAPPED (1 << 4)
#define IS_HUGE (1 << 6)

// Present pages not PMD-mapped of [s, e): pagemap, then kpageflags in runs.
static uint64_t read_small(int pm, int kpf, uint64_t s, uint64_t e, uint64_t *buf, uint64_t *flags) {
    uint64_t compound = 0;
    for (uint64_t a = s; a < e;) {
        uint64_t n = (e - a) / 4096 < CHUNK ? (e - a) / 4096 : CHUNK;
        ssize_t r = pread(pm, buf, n * 8, (off_t)(a / 4096 * 8));
        if (r <= 0) return compound;
        uint64_t got = (uint64_t)r / 8;
        for (uint64_t i = 0; i < got;) {
            uint64_t pfn = buf[i] & PFN_MASK, j = i;
            if (!(buf[i] >> 63) || pfn == 0) { i++; continue; }
            while (j + 1 < got && (buf[j + 1] & PFN_MASK) == pfn + (j + 1 - i)) j++;
            ssize_t f = pread(kpf, flags, (j - i + 1) * 8, (off_t)(pfn * 8));
            for (ssize_t k = 0; k < f / 8; k++) compound += (flags[k] >> 15) & 1;
            i = j + 1;
        }
        a += got * 4096;
    }
    return compound;
}

// PAGEMAP_SCAN over [s, e), then the present ranges not PMD-mapped read.
static void scan_range(int pm, int kpf, uint64_t s, uint64_t e, struct page_region *v, uint64_t *buf, uint64_t *flags) {
    for (uint64_t cur = s; cur < e;) {
        struct pm_scan_arg a = { .size = sizeof a, .start = cur, .end = e, .vec = (uintptr_t)v, .vec_len = 4096,
                                 .category_anyof_mask = IS_PRESENT | IS_SWAPPED,
                                 .return_mask = IS_PRESENT | IS_SWAPPED | IS_HUGE };
        long n = ioctl(pm, PAGEMAP_SCAN_IOCTL, &a);
        if (n < 0) return;
        for (long r = 0; r < n; r++)
            if ((v[r].categories & IS_PRESENT) && !(v[r].categories & IS_HUGE)) read_small(pm, kpf, v[r].start, v[r].end, buf, flags);
        if (a.walk_end <= cur || a.walk_end >= e) return;
        cur = a.walk_end;
    }
}

// --threads: 64 MiB chunks of one range handed out to N threads.
static int range_pm, range_kpf;
static uint64_t range_start, range_end, next_chunk;
static pthread_mutex_t chunk_lock = PTHREAD_MUTEX_INITIALIZER;

static void *range_worker(void *unused) {
    (void)unused;
    struct page_region *v = malloc(4096 * sizeof *v);
    uint64_t *buf = malloc(CHUNK * 8), *flags = malloc(CHUNK * 8);
    for (;;) {
        pthread_mutex_lock(&chunk_lock);
        uint64_t s = range_start + next_chunk++ * (64ULL << 20);
        pthread_mutex_unlock(&chunk_lock);
        if (s >= range_end) break;
        uint64_t e = s + (64ULL << 20) < range_end ? s + (64ULL << 20) : range_end;
        scan_range(range_pm, range_kpf, s, e, v, buf, flags);
    }
    free(v); free(buf); free(flags);
    return NULL;
}

static int threads_floor(int n, const char *pid, const char *start, const char *len) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/pagemap", pid);
    snprintf(smaps_path, sizeof smaps_path, "/proc/%s/smaps", pid);
    range_pm = open(path, O_RDONLY);
    range_kpf = open("/proc/kpageflags", O_RDONLY);
    if (range_pm < 0 || range_kpf < 0) { perror("open"); return 1; }
    range_start = strtoull(start, NULL, 16);
    range_end = range_start + strtoull(len, NULL, 10);
    pthread_t smaps, t[64];
    if (n < 1 || n > 64) n = 1;
    pthread_create(&smaps, NULL, read_smaps, NULL);
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, range_worker, NULL);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    pthread_join(smaps, NULL);
    return 0;
}

// One process's floor; returns 0 when it could not be read (gone, no mm).
static int floor_one(const char *pid, int kpf) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/maps", pid);
    FILE *maps = fopen(path, "r");
    if (!maps) return 0;
    snprintf(path, sizeof path, "/proc/%s/pagemap", pid);
    int pm = open(path, O_RDONLY);
    if (pm < 0) { fclose(maps); return 0; }
    snprintf(smaps_path, sizeof smaps_path, "/proc/%s/smaps", pid);
    pthread_t smaps;
    pthread_create(&smaps, NULL, read_smaps, (void *)1);
    static struct page_region v[4096];
    static uint64_t buf[CHUNK], flags[CHUNK];
    char line[4096];
    int vmas = 0;
    while (fgets(line, sizeof line, maps)) {
        unsigned long s, e;
        if (sscanf(line, "%lx-%lx", &s, &e) != 2 || strstr(line, "[vsyscall]")) continue;
        vmas++;
        scan_range(pm, kpf, s, e, v, buf, flags);
    }
    pthread_join(smaps, NULL);
    close(pm);
    fclose(maps);
    return vmas > 0;
}

static int floor_all(void) {
    int kpf = open("/proc/kpageflags", O_RDONLY);
    if (kpf < 0) { perror("/proc/kpageflags"); return 1; }
    DIR *d = opendir("/proc");
    struct dirent *de;
    int read = 0, seen = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
        seen++;
        read += floor_one(de->d_name, kpf);
    }
    closedir(d);
    printf("%d processes read of %d\n", read, seen);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--floor-all") == 0) return floor_all();
    if (argc == 6 && strcmp(argv[1], "--threads") == 0) return threads_floor(atoi(argv[2]), argv[3], argv[4], argv[5]);
    int floor = argc == 5 && strcmp(argv[1], "--floor") == 0;
    if (argc != 4 + floor) {
        fprintf(stderr, "usage: baseline [--floor] PID START_HEX LENGTH | --threads N PID START_HEX LENGTH | --floor-all\n");
        return 2;
    }
    char **a = argv + floor;
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/pagemap", a[1]);
    snprintf(smaps_path, sizeof smaps_path, "/proc/%s/smaps", a[1]);
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return 1; }
    int kpf = -1;
    pthread_t smaps;
    if (floor) {
        kpf = open("/proc/kpageflags", O_RDONLY);
        if (kpf < 0) { perror("/proc/kpageflags"); return 1; }
        pthread_create(&smaps, NULL, read_smaps, NULL);
    }
    uint64_t start = strtoull(a[2], NULL, 16), len = strtoull(a[3], NULL, 10);
    static uint64_t buf[CHUNK], flags[CHUNK];
    uint64_t pages = len / 4096, done = 0, present = 0, compound = 0;
    while (done < pages) {
        uint64_t n = pages - done < CHUNK ? pages - done : CHUNK;
        ssize_t r = pread(fd, buf, n * 8, (off_t)((start / 4096 + done) * 8));
        if (r <= 0) { perror("pread"); return 1; }
        uint64_t got = (uint64_t)r / 8;
        for (uint64_t i = 0; i < got; i++) present += buf[i] >> 63;
        for (uint64_t i = 0; floor && done + got > pages / 2 && i < got;) {
            if (done + i < pages / 2) { i = pages / 2 - done; continue; }
            uint64_t pfn = buf[i] & PFN_MASK, j = i;
            if (!(buf[i] >> 63) || pfn == 0) { i++; continue; }
            while (j + 1 < got && (buf[j + 1] & PFN_MASK) == pfn + (j + 1 - i)) j++;
            ssize_t f = pread(kpf, flags, (j - i + 1) * 8, (off_t)(pfn * 8));
            for (ssize_t k = 0; k < f / 8; k++) compound += (flags[k] >> 15) & 1;  // KPF_COMPOUND_HEAD
            i = j + 1;
        }
        done += got;
    }
    if (floor) pthread_join(smaps, NULL);
    printf("%llu present of %llu, %llu compound heads\n", (unsigned long long)present,
           (unsigned long long)pages, (unsigned long long)compound);
    return 0;
}
