// The baseline for scripts/bench: reads the pagemap entries of one range of
// a process sequentially in 1 MiB chunks and counts the present pages.
//   baseline PID START_HEX LENGTH
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: baseline PID START_HEX LENGTH\n"); return 2; }
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/pagemap", argv[1]);
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return 1; }
    uint64_t start = strtoull(argv[2], NULL, 16), len = strtoull(argv[3], NULL, 10);
    static uint64_t buf[131072];
    uint64_t pages = len / 4096, done = 0, present = 0;
    while (done < pages) {
        uint64_t n = pages - done < 131072 ? pages - done : 131072;
        ssize_t r = pread(fd, buf, n * 8, (off_t)((start / 4096 + done) * 8));
        if (r <= 0) { perror("pread"); return 1; }
        for (uint64_t i = 0; i < (uint64_t)r / 8; i++) present += buf[i] >> 63;
        done += (uint64_t)r / 8;
    }
    printf("%llu present of %llu\n", (unsigned long long)present, (unsigned long long)pages);
    return 0;
}
