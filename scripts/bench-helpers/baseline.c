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
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 131072
#define PFN_MASK ((1ULL << 55) - 1)

static char smaps_path[64];

static void *read_smaps(void *unused) {
    (void)unused;
    static char buf[1 << 20];
    int fd = open(smaps_path, O_RDONLY);
    if (fd < 0) { perror(smaps_path); exit(1); }
    while (read(fd, buf, sizeof buf) > 0) {}
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    int floor = argc == 5 && strcmp(argv[1], "--floor") == 0;
    if (argc != 4 + floor) { fprintf(stderr, "usage: baseline [--floor] PID START_HEX LENGTH\n"); return 2; }
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
