// Holds memory in a known shape for scripts/bench, prints
// "pid start length" and sleeps until its stdin closes.
//   holder dense GIB   a GIB-sized memfd mapping, every page written,
//                      the first half collapsed to PMD mappings
//   holder sparse      1 TiB of anonymous address space reserved, 1 GiB
//                      resident in 512 scattered 2 MiB pieces (THP)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define HUGE (2UL << 20)

static char *aligned(size_t len, int prot, int flags, int fd) {
    char *r = mmap(NULL, len + HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) { perror("reserve"); exit(1); }
    char *a = (char *)(((unsigned long)r + HUGE - 1) & ~(HUGE - 1));
    char *p = mmap(a, len, prot, flags | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return p;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: holder dense GIB | sparse\n"); return 2; }
    char *p; size_t len;
    if (strcmp(argv[1], "dense") == 0) {
        len = (size_t)atol(argc > 2 ? argv[2] : "8") << 30;
        int fd = memfd_create("thplab-bench-dense", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, len) != 0) { perror("memfd"); return 1; }
        p = aligned(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
        if (madvise(p, len, MADV_POPULATE_WRITE) != 0) { perror("populate"); return 1; }
        if (madvise(p, len / 2, MADV_COLLAPSE) != 0) perror("collapse (partly)");
    } else {
        len = 1UL << 40;
        p = aligned(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
        madvise(p, len, MADV_HUGEPAGE);
        for (size_t i = 0; i < 512; i++) {
            char *piece = p + i * (len / 512);
            if (madvise(piece, HUGE, MADV_POPULATE_WRITE) != 0) { perror("populate"); return 1; }
        }
    }
    printf("%d %lx %zu\n", getpid(), (unsigned long)p, len);
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0) {}
    return 0;
}
