// _GNU_SOURCE must come before any system header, and only here: defining it
// in the public header breaks Swift's import of Glibc and Foundation.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifndef __linux__
#error "CShims is Linux-only"
#endif

#include "CShims.h"

#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/swap.h>
#include <linux/userfaultfd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

// Older kernel headers lack these values; they are stable ABI.
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
// pidfd_open (5.3) and process_madvise (5.10) have no glibc 2.36 wrappers.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif

// PAGEMAP_SCAN (6.7) from include/uapi/linux/fs.h, for headers that lack it.
#ifndef PAGEMAP_SCAN
struct pm_scan_arg {
    uint64_t size;
    uint64_t flags;
    uint64_t start;
    uint64_t end;
    uint64_t walk_end;
    uint64_t vec;
    uint64_t vec_len;
    uint64_t max_pages;
    uint64_t category_inverted;
    uint64_t category_mask;
    uint64_t category_anyof_mask;
    uint64_t return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_FILE (1 << 2)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)
#define PAGE_IS_PFNZERO (1 << 5)
#define PAGE_IS_HUGE (1 << 6)
#endif

const uint64_t cshims_PAGE_IS_FILE = PAGE_IS_FILE;
const uint64_t cshims_PAGE_IS_PRESENT = PAGE_IS_PRESENT;
const uint64_t cshims_PAGE_IS_SWAPPED = PAGE_IS_SWAPPED;
const uint64_t cshims_PAGE_IS_PFNZERO = PAGE_IS_PFNZERO;
const uint64_t cshims_PAGE_IS_HUGE = PAGE_IS_HUGE;

_Static_assert(sizeof(struct cshims_page_region) == 24, "page_region is three u64");

long cshims_pagemap_scan(int pagemap_fd, uint64_t start, uint64_t end, uint64_t inverted_mask,
                         uint64_t anyof_mask, uint64_t return_mask, struct cshims_page_region *vec,
                         uint64_t vec_len, uint64_t *walk_end) {
    struct pm_scan_arg arg = {
        .size = sizeof(arg),
        .start = start,
        .end = end,
        .vec = (uint64_t)(uintptr_t)vec,
        .vec_len = vec_len,
        .category_inverted = inverted_mask,
        .category_anyof_mask = anyof_mask,
        .return_mask = return_mask,
    };
    long n = ioctl(pagemap_fd, PAGEMAP_SCAN, &arg);
    if (walk_end) *walk_end = arg.walk_end;
    return n;
}

const int cshims_MADV_HUGEPAGE = MADV_HUGEPAGE;
const int cshims_MADV_NOHUGEPAGE = MADV_NOHUGEPAGE;
const int cshims_MADV_COLLAPSE = MADV_COLLAPSE;
const int cshims_MADV_POPULATE_READ = MADV_POPULATE_READ;
const int cshims_MADV_POPULATE_WRITE = MADV_POPULATE_WRITE;
const int cshims_MADV_PAGEOUT = MADV_PAGEOUT;
const int cshims_MADV_DONTNEED = MADV_DONTNEED;

int cshims_swapon(const char *path) { return swapon(path, 0); }
int cshims_swapoff(const char *path) { return swapoff(path); }
const unsigned int cshims_MFD_CLOEXEC = MFD_CLOEXEC;
const int cshims_MAP_FIXED_NOREPLACE = MAP_FIXED_NOREPLACE;
const int cshims_CAP_SYS_ADMIN = CAP_SYS_ADMIN;

int cshims_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int cshims_memfd_create(const char *name, unsigned int flags) {
    return memfd_create(name, flags);
}

void *cshims_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
    void *p = mmap(addr, length, prot, flags, fd, offset);
    return p == MAP_FAILED ? NULL : p;
}

int cshims_madvise(void *addr, size_t length, int advice) {
    return madvise(addr, length, advice);
}

// The child starts with default signal dispositions and an empty mask,
// whatever the parent did to handle SIGINT/SIGTERM/SIGHUP.
static int default_signals(posix_spawnattr_t *attr) {
    int rc = posix_spawnattr_init(attr);
    if (rc != 0) return rc;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(attr, &all);
    posix_spawnattr_setsigmask(attr, &none);
    return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

int cshims_spawn(pid_t *pid, const char *path, char *const argv[],
                 const int *fd_map, int fd_count, int new_group) {
    posix_spawn_file_actions_t actions;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    for (int i = 0; i < fd_count; i++) {
        rc = posix_spawn_file_actions_adddup2(&actions, fd_map[2 * i], fd_map[2 * i + 1]);
        if (rc != 0) { posix_spawn_file_actions_destroy(&actions); return rc; }
    }
    posix_spawnattr_t attr;
    rc = default_signals(&attr);
    if (rc == 0 && new_group) {
        // A process group of its own: a terminal's ^C reaches thplab
        // alone, which then stops the child's whole tree in order.
        rc = posix_spawnattr_setpgroup(&attr, 0);
        if (rc == 0) rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
        if (rc != 0) posix_spawnattr_destroy(&attr);
    }
    if (rc != 0) { posix_spawn_file_actions_destroy(&actions); return rc; }
    extern char **environ;
    rc = posix_spawn(pid, path, &actions, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

int cshims_spawnp(pid_t *pid, const char *file, char *const argv[]) {
    posix_spawnattr_t attr;
    int rc = default_signals(&attr);
    if (rc != 0) return rc;
    extern char **environ;
    rc = posix_spawnp(pid, file, NULL, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int cshims_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0);
}

pid_t cshims_fork_holder(void) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    /* The child: only async-signal-safe calls from here on. */
    if (syscall(SYS_close_range, 3U, ~0U, 0) != 0) {
        for (int fd = 3; fd < 4096; fd++) close(fd);
    }
    prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0, 0, 0);
    if (getppid() != parent) _exit(0);
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGTERM);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGTERM, SIG_DFL);
    for (;;) pause();
}

int cshims_has_effective_capability(int cap) {
    cap_t caps = cap_get_proc();
    if (caps == NULL) return -1;
    cap_flag_value_t value = CAP_CLEAR;
    int rc = cap_get_flag(caps, (cap_value_t)cap, CAP_EFFECTIVE, &value);
    int saved = errno;
    cap_free(caps);
    if (rc != 0) { errno = saved; return -1; }
    return value == CAP_SET ? 1 : 0;
}

int cshims_numa_available(void) { return numa_available(); }
int cshims_numa_max_node(void) { return numa_max_node(); }

const int cshims_MPOL_PREFERRED = MPOL_PREFERRED;
const int cshims_MPOL_BIND = MPOL_BIND;
const int cshims_MPOL_INTERLEAVE = MPOL_INTERLEAVE;

int cshims_mbind(void *addr, unsigned long len, int mode, unsigned long nodemask) {
    unsigned long mask = nodemask;
    return (int)mbind(addr, len, mode, &mask, sizeof(mask) * 8, 0);
}

int cshims_mount_tmpfs(const char *target, const char *options) {
    return mount("thplab", target, "tmpfs", MS_NOSUID | MS_NODEV, options);
}

int cshims_umount(const char *target, int lazy) {
    return umount2(target, lazy ? MNT_DETACH : 0);
}

int cshims_mount_tracefs(const char *target) {
    return mount("tracefs", target, "tracefs", 0, NULL);
}

int cshims_flock_exclusive(int fd, int nonblocking) {
    return flock(fd, LOCK_EX | (nonblocking ? LOCK_NB : 0));
}

long cshims_process_madvise_one(pid_t pid, void *addr, size_t length, int advice) {
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return -1;
    struct iovec iov = { .iov_base = addr, .iov_len = length };
    long rc = syscall(SYS_process_madvise, pidfd, &iov, 1UL, advice, 0U);
    int saved = errno;
    close(pidfd);
    errno = saved;
    return rc;
}

long cshims_read_gzip(const char *path, char *buf, size_t cap) {
    gzFile f = gzopen(path, "rb");
    if (f == NULL) return -1;
    size_t total = 0;
    while (total < cap) {
        unsigned chunk = (cap - total) > (1u << 30) ? (1u << 30) : (unsigned)(cap - total);
        int n = gzread(f, buf + total, chunk);
        if (n < 0) { gzclose(f); return -1; }
        if (n == 0) break;
        total += (size_t)n;
    }
    gzclose(f);
    return (long)total;
}

int cshims_uffd_wp_arm(void *addr, size_t len) {
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0) return -1;
    struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_HUGETLBFS_SHMEM };
    struct uffdio_register reg = { .range = { .start = (unsigned long)addr, .len = len }, .mode = UFFDIO_REGISTER_MODE_WP };
    struct uffdio_writeprotect wp = { .range = { .start = (unsigned long)addr, .len = len }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
    if (ioctl(fd, UFFDIO_API, &api) != 0 || ioctl(fd, UFFDIO_REGISTER, &reg) != 0 ||
        ioctl(fd, UFFDIO_WRITEPROTECT, &wp) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int cshims_allowed_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}

uint64_t cshims_chase(const void *base, uint64_t start, uint64_t steps) {
    const volatile unsigned char *b = base;
    uint64_t at = start;
    for (uint64_t i = 0; i < steps; i++) at = *(const volatile uint64_t *)(b + at);
    return at;
}

uint64_t cshims_stream(const void *base, size_t length, unsigned passes) {
    const uint64_t *w = base;
    uint64_t sum = 0;
    size_t words = length / sizeof(uint64_t);
    for (unsigned p = 0; p < passes; p++)
        for (size_t i = 0; i < words; i += 8) sum += w[i];
    return sum;
}

void cshims_hypervisor_signature(char out[13]) {
    memset(out, 0, 13);
#if defined(__x86_64__) || defined(__i386__)
    unsigned int a, b, c, d;
    __cpuid(1, a, b, c, d);
    if (!(c & (1u << 31))) return; /* no hypervisor bit */
    __cpuid(0x40000000, a, b, c, d);
    memcpy(out, &b, 4);
    memcpy(out + 4, &c, 4);
    memcpy(out + 8, &d, 4);
#endif
}

int cshims_perf_open(uint32_t type, uint64_t config, int group_fd) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    attr.disabled = group_fd == -1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    return (int)syscall(SYS_perf_event_open, &attr, 0, -1, group_fd, PERF_FLAG_FD_CLOEXEC);
}

int cshims_perf_switch(int fd, int on) {
    return ioctl(fd, on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

int cshims_perf_read(int fd, uint64_t out[3]) {
    ssize_t n = read(fd, out, 3 * sizeof(uint64_t));
    if (n == (ssize_t)(3 * sizeof(uint64_t))) return 0;
    if (n >= 0) errno = EIO;
    return -1;
}

void cshims_perf_abi(uint64_t out[6]) {
    out[0] = PERF_TYPE_SOFTWARE;
    out[1] = PERF_TYPE_HW_CACHE;
    out[2] = PERF_TYPE_RAW;
    out[3] = PERF_COUNT_HW_CACHE_DTLB | (PERF_COUNT_HW_CACHE_OP_READ << 8) | (PERF_COUNT_HW_CACHE_RESULT_MISS << 16);
    out[4] = PERF_COUNT_SW_PAGE_FAULTS;
    out[5] = PERF_COUNT_SW_TASK_CLOCK;
}
