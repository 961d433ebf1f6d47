// CShims: the only place where thplab includes Linux, libnuma and libcap
// headers. Every symbol starts with `cshims_`. Macros and GNU-only calls are
// real functions in shims.c, so Swift never needs _GNU_SOURCE.
#ifndef CSHIMS_H
#define CSHIMS_H

#ifdef __linux__

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// madvise advice values that Swift's Glibc module does not export.
/// The corresponding kernel names are MADV_HUGEPAGE, MADV_NOHUGEPAGE,
/// MADV_COLLAPSE (6.1), MADV_POPULATE_READ and MADV_POPULATE_WRITE (5.14).
extern const int cshims_MADV_HUGEPAGE;
extern const int cshims_MADV_NOHUGEPAGE;
extern const int cshims_MADV_COLLAPSE;
extern const int cshims_MADV_POPULATE_READ;
extern const int cshims_MADV_POPULATE_WRITE;
extern const int cshims_MADV_PAGEOUT;
/// MADV_DONTNEED: drop a range's pages (part of a large folio leaves it partially mapped).
extern const int cshims_MADV_DONTNEED;

/// swapon(2) / swapoff(2): 0 or -1 with errno set.
int cshims_swapon(const char *path);
int cshims_swapoff(const char *path);

/// pipe2(2) with O_CLOEXEC: both ends close on exec from the start.
/// 0 or -1 with errno set.
int cshims_pipe_cloexec(int fds[2]);

/// memfd_create(2). Returns the fd or -1 with errno set.
int cshims_memfd_create(const char *name, unsigned int flags);
extern const unsigned int cshims_MFD_CLOEXEC;

/// mmap(2) returning NULL on failure (errno set) instead of MAP_FAILED.
void *cshims_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
extern const int cshims_MAP_FIXED_NOREPLACE;

/// madvise(2): 0 or -1 with errno set.
int cshims_madvise(void *addr, size_t length, int advice);

/// Spawns `path` with `argv` (NULL-terminated). `fd_map` holds `fd_count`
/// pairs (from, to): each `from` is dup2'd onto `to` in the child, all other
/// descriptors keep their close-on-exec flag. `new_group` non-zero: the
/// child leads a process group of its own. Returns 0 and sets *pid, or an
/// errno value.
int cshims_spawn(pid_t *pid, const char *path, char *const argv[],
                 const int *fd_map, int fd_count, int new_group);

/// posix_spawnp: like cshims_spawn, but `file` is looked up in PATH, and
/// the child keeps every descriptor and the parent's signal mask reset.
int cshims_spawnp(pid_t *pid, const char *file, char *const argv[]);

/// prctl(PR_SET_PDEATHSIG, sig): the calling process gets `sig` when its
/// parent thread exits. 0 or -1 with errno set.
int cshims_set_parent_death_signal(int sig);

/// fork() of a child that only holds the parent's memory: it closes every
/// descriptor above 2, asks for SIGKILL when its parent thread exits, and
/// sleeps until killed. Its private pages stay shared copy-on-write with the
/// parent's until either writes one (what `run shared` needs; posix_spawn
/// cannot give it, since exec drops the memory). Returns the child's pid, or
/// -1 with errno set.
pid_t cshims_fork_holder(void);

/// libcap: 1 if `cap` (e.g. CAP_SYS_ADMIN = 21) is in the effective set of
/// this process, 0 if not, -1 with errno set if libcap failed.
int cshims_has_effective_capability(int cap);
extern const int cshims_CAP_SYS_ADMIN;

/// libnuma: numa_available() (-1 when the kernel has no NUMA support) and
/// numa_max_node().
int cshims_numa_available(void);
int cshims_numa_max_node(void);

/// mbind(2) through libnuma: sets the memory policy of [addr, addr+len) to
/// `mode` (MPOL_*) over the nodes set in the 64-bit `nodemask`. -1/errno.
int cshims_mbind(void *addr, unsigned long len, int mode, unsigned long nodemask);
extern const int cshims_MPOL_PREFERRED;
extern const int cshims_MPOL_BIND;
extern const int cshims_MPOL_INTERLEAVE;

/// mount(2) of a tmpfs at `target` with `options` (e.g. "size=8m,huge=advise").
int cshims_mount_tmpfs(const char *target, const char *options);
/// umount2(2) with MNT_DETACH as a last resort when `lazy` is set.
int cshims_umount(const char *target, int lazy);
/// mount(2) of tracefs at `target`.
int cshims_mount_tracefs(const char *target);

/// flock(2) with LOCK_EX, non-blocking when `nonblocking` is set.
int cshims_flock_exclusive(int fd, int nonblocking);

/// process_madvise(2) through pidfd_open(2); both raw syscalls because
/// glibc 2.36 lacks wrappers. Returns bytes advised or -1 with errno set.
long cshims_process_madvise_one(pid_t pid, void *addr, size_t length, int advice);

/// One range reported by the PAGEMAP_SCAN ioctl (6.7+): [start, end) with
/// the PAGE_IS_* categories all its pages share. Mirrors `struct
/// page_region` of include/uapi/linux/fs.h, which Debian 12's headers lack.
struct cshims_page_region {
    uint64_t start;
    uint64_t end;
    uint64_t categories;
};

/// PAGE_IS_* category bits of PAGEMAP_SCAN.
extern const uint64_t cshims_PAGE_IS_FILE;
extern const uint64_t cshims_PAGE_IS_PRESENT;
extern const uint64_t cshims_PAGE_IS_SWAPPED;
extern const uint64_t cshims_PAGE_IS_PFNZERO;
extern const uint64_t cshims_PAGE_IS_HUGE;

/// ioctl(pagemap_fd, PAGEMAP_SCAN) over [start, end): ranges of pages
/// whose categories, with the `inverted_mask` bits flipped, have any of
/// `anyof_mask` (every page where it is 0), reporting their `return_mask`
/// categories (not flipped), at most `vec_len` of them into `vec`. Returns
/// the number of ranges (and the address the walk stopped at in *walk_end)
/// or -1 with errno set (ENOTTY: no PAGEMAP_SCAN).
long cshims_pagemap_scan(int pagemap_fd, uint64_t start, uint64_t end, uint64_t inverted_mask,
                         uint64_t anyof_mask, uint64_t return_mask, struct cshims_page_region *vec,
                         uint64_t vec_len, uint64_t *walk_end);

/// userfaultfd(2) with write-protect armed over [addr, addr+len) of a
/// shmem mapping (UFFD_FEATURE_WP_HUGETLBFS_SHMEM, UFFDIO_REGISTER_MODE_WP,
/// UFFDIO_WRITEPROTECT). Returns the userfaultfd (keep it open while the
/// protection should last) or -1 with errno set.
int cshims_uffd_wp_arm(void *addr, size_t len);

/// zlib: decompresses the gzip file at `path` (e.g. /proc/config.gz) into
/// `buf`, at most `cap` bytes. Returns the byte count or -1.
long cshims_read_gzip(const char *path, char *buf, size_t cap);

/// The CPUs this process may run on (sched_getaffinity: `taskset` and
/// cpusets count), at least 1.
int cshims_allowed_cpus(void);

/// `run benefit`'s access kernels. The chase follows a chain of byte
/// offsets stored in the memory itself (each load depends on the last, so
/// every access pays its TLB miss and page walk in full) for `steps` loads
/// from `start`, and returns the offset it ended at. The stream reads one
/// 8-byte word of every 64-byte line of [base, base + length), `passes`
/// times, and returns their sum (so neither loop can be optimised away).
uint64_t cshims_chase(const void *base, uint64_t start, uint64_t steps);
uint64_t cshims_stream(const void *base, size_t length, unsigned passes);

/// The hypervisor's CPUID signature (leaf 0x40000000: "KVMKVMKVM",
/// "TCGTCGTCGTCG" under QEMU's software emulation, ...) into `out` (13
/// bytes, NUL-terminated); empty on bare metal and off x86.
void cshims_hypervisor_signature(char out[13]);

/// perf_event_open(2) for this thread on any CPU, user space only, opened
/// disabled: `type` and `config` as the kernel's perf_event_attr takes them
/// (PERF_TYPE_HARDWARE, PERF_TYPE_SOFTWARE, PERF_TYPE_HW_CACHE,
/// PERF_TYPE_RAW). `group_fd` -1 makes a group leader. Reads give value,
/// time enabled and time running (for scaling when counters are shared).
/// Returns the fd, or -1 with errno set.
int cshims_perf_open(uint32_t type, uint64_t config, int group_fd);
/// Enables (`on` 1) or disables (`on` 0) one counter. (A group-wide
/// switch through the leader left a task-clock sibling stopped after its
/// first enable on 6.18, so each counter is switched on its own.)
int cshims_perf_switch(int fd, int on);
/// One counter's value, time enabled and time running (ns); 0 or -1 with errno.
int cshims_perf_read(int fd, uint64_t out[3]);
/// The UAPI header's own values, for the tests of thplab's event table:
/// types software, hw_cache, raw; the dTLB read-miss config; the software
/// page-fault and task-clock configs.
void cshims_perf_abi(uint64_t out[6]);

#endif /* __linux__ */
#endif /* CSHIMS_H */
