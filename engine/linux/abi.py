"""The Linux ARM EABI user-space ABI as data: syscall numbers, errno values, signals, flags and struct sizes.

Numbers are those of Linux's arch/arm (the EABI table, include/uapi/asm-generic/errno*.h, arch/arm/include/uapi)
as musl's arch/arm headers also give them. Nothing here depends on the host: the emulator runs on any host OS.
"""
from __future__ import annotations

# ---- syscalls (ARM EABI: number in r7, arguments in r0-r6, result in r0) ------------------------------------------
# Names as Linux's arch/arm/tools/syscall.tbl gives them (musl renames the 32-bit time ones *_time32).
SYSCALL_NAMES: dict[int, str] = {
    0: "restart_syscall", 1: "exit", 2: "fork", 3: "read", 4: "write", 5: "open", 6: "close", 8: "creat", 9: "link",
    10: "unlink", 11: "execve", 12: "chdir", 14: "mknod", 15: "chmod", 16: "lchown", 19: "lseek", 20: "getpid",
    21: "mount", 23: "setuid", 24: "getuid", 26: "ptrace", 29: "pause", 33: "access", 34: "nice", 36: "sync",
    37: "kill", 38: "rename", 39: "mkdir", 40: "rmdir", 41: "dup", 42: "pipe", 43: "times", 45: "brk", 46: "setgid",
    47: "getgid", 49: "geteuid", 50: "getegid", 51: "acct", 52: "umount2", 54: "ioctl", 55: "fcntl", 57: "setpgid",
    60: "umask", 61: "chroot", 62: "ustat", 63: "dup2", 64: "getppid", 65: "getpgrp", 66: "setsid", 67: "sigaction",
    70: "setreuid", 71: "setregid", 72: "sigsuspend", 73: "sigpending", 74: "sethostname", 75: "setrlimit",
    77: "getrusage", 78: "gettimeofday", 79: "settimeofday", 80: "getgroups", 81: "setgroups",
    83: "symlink", 85: "readlink", 86: "uselib", 87: "swapon", 88: "reboot", 91: "munmap", 92: "truncate",
    93: "ftruncate", 94: "fchmod", 95: "fchown", 96: "getpriority", 97: "setpriority", 99: "statfs", 100: "fstatfs",
    103: "syslog", 104: "setitimer", 105: "getitimer", 106: "stat", 107: "lstat", 108: "fstat", 111: "vhangup",
    114: "wait4", 115: "swapoff", 116: "sysinfo", 118: "fsync", 119: "sigreturn", 120: "clone", 121: "setdomainname",
    122: "uname", 124: "adjtimex", 125: "mprotect", 126: "sigprocmask", 128: "init_module", 129: "delete_module",
    131: "quotactl", 132: "getpgid", 133: "fchdir", 134: "bdflush", 135: "sysfs", 136: "personality",
    138: "setfsuid", 139: "setfsgid", 140: "_llseek", 141: "getdents", 142: "_newselect", 143: "flock", 144: "msync",
    145: "readv", 146: "writev", 147: "getsid", 148: "fdatasync", 149: "_sysctl", 150: "mlock", 151: "munlock",
    152: "mlockall", 153: "munlockall", 154: "sched_setparam", 155: "sched_getparam", 156: "sched_setscheduler",
    157: "sched_getscheduler", 158: "sched_yield", 159: "sched_get_priority_max", 160: "sched_get_priority_min",
    161: "sched_rr_get_interval", 162: "nanosleep", 163: "mremap", 164: "setresuid", 165: "getresuid", 168: "poll",
    169: "nfsservctl", 170: "setresgid", 171: "getresgid", 172: "prctl", 173: "rt_sigreturn", 174: "rt_sigaction",
    175: "rt_sigprocmask", 176: "rt_sigpending", 177: "rt_sigtimedwait", 178: "rt_sigqueueinfo",
    179: "rt_sigsuspend", 180: "pread64", 181: "pwrite64", 182: "chown", 183: "getcwd", 184: "capget", 185: "capset",
    186: "sigaltstack", 187: "sendfile", 190: "vfork", 191: "ugetrlimit", 192: "mmap2", 193: "truncate64",
    194: "ftruncate64", 195: "stat64", 196: "lstat64", 197: "fstat64", 198: "lchown32", 199: "getuid32",
    200: "getgid32", 201: "geteuid32", 202: "getegid32", 203: "setreuid32", 204: "setregid32", 205: "getgroups32",
    206: "setgroups32", 207: "fchown32", 208: "setresuid32", 209: "getresuid32", 210: "setresgid32",
    211: "getresgid32", 212: "chown32", 213: "setuid32", 214: "setgid32", 215: "setfsuid32", 216: "setfsgid32",
    217: "getdents64", 218: "pivot_root", 219: "mincore", 220: "madvise", 221: "fcntl64", 224: "gettid",
    225: "readahead", 226: "setxattr", 227: "lsetxattr", 228: "fsetxattr", 229: "getxattr", 230: "lgetxattr",
    231: "fgetxattr", 232: "listxattr", 233: "llistxattr", 234: "flistxattr", 235: "removexattr",
    236: "lremovexattr", 237: "fremovexattr", 238: "tkill", 239: "sendfile64", 240: "futex",
    241: "sched_setaffinity", 242: "sched_getaffinity", 243: "io_setup", 244: "io_destroy", 245: "io_getevents",
    246: "io_submit", 247: "io_cancel", 248: "exit_group", 249: "lookup_dcookie", 250: "epoll_create",
    251: "epoll_ctl", 252: "epoll_wait", 253: "remap_file_pages", 256: "set_tid_address", 257: "timer_create",
    258: "timer_settime", 259: "timer_gettime", 260: "timer_getoverrun", 261: "timer_delete",
    262: "clock_settime", 263: "clock_gettime", 264: "clock_getres", 265: "clock_nanosleep",
    266: "statfs64", 267: "fstatfs64", 268: "tgkill", 269: "utimes", 270: "fadvise64_64",
    271: "pciconfig_iobase", 272: "pciconfig_read", 273: "pciconfig_write", 274: "mq_open", 275: "mq_unlink",
    276: "mq_timedsend", 277: "mq_timedreceive", 278: "mq_notify", 279: "mq_getsetattr", 280: "waitid",
    281: "socket", 282: "bind", 283: "connect", 284: "listen", 285: "accept", 286: "getsockname", 287: "getpeername",
    288: "socketpair", 289: "send", 290: "sendto", 291: "recv", 292: "recvfrom", 293: "shutdown", 294: "setsockopt",
    295: "getsockopt", 296: "sendmsg", 297: "recvmsg", 298: "semop", 299: "semget", 300: "semctl", 301: "msgsnd",
    302: "msgrcv", 303: "msgget", 304: "msgctl", 305: "shmat", 306: "shmdt", 307: "shmget", 308: "shmctl",
    309: "add_key", 310: "request_key", 311: "keyctl", 312: "semtimedop", 313: "vserver", 314: "ioprio_set",
    315: "ioprio_get", 316: "inotify_init", 317: "inotify_add_watch", 318: "inotify_rm_watch", 319: "mbind",
    320: "get_mempolicy", 321: "set_mempolicy", 322: "openat", 323: "mkdirat", 324: "mknodat", 325: "fchownat",
    326: "futimesat", 327: "fstatat64", 328: "unlinkat", 329: "renameat", 330: "linkat", 331: "symlinkat",
    332: "readlinkat", 333: "fchmodat", 334: "faccessat", 335: "pselect6", 336: "ppoll", 337: "unshare",
    338: "set_robust_list", 339: "get_robust_list", 340: "splice",
    341: "sync_file_range2", 342: "tee", 343: "vmsplice", 344: "move_pages", 345: "getcpu", 346: "epoll_pwait",
    347: "kexec_load", 348: "utimensat", 349: "signalfd", 350: "timerfd_create", 351: "eventfd", 352: "fallocate",
    353: "timerfd_settime", 354: "timerfd_gettime", 355: "signalfd4", 356: "eventfd2", 357: "epoll_create1",
    358: "dup3", 359: "pipe2", 360: "inotify_init1", 361: "preadv", 362: "pwritev", 363: "rt_tgsigqueueinfo",
    364: "perf_event_open", 365: "recvmmsg", 366: "accept4", 367: "fanotify_init", 368: "fanotify_mark",
    369: "prlimit64", 370: "name_to_handle_at", 371: "open_by_handle_at", 372: "clock_adjtime", 373: "syncfs",
    374: "sendmmsg", 375: "setns", 376: "process_vm_readv", 377: "process_vm_writev", 378: "kcmp",
    379: "finit_module", 380: "sched_setattr", 381: "sched_getattr", 382: "renameat2", 383: "seccomp",
    384: "getrandom", 385: "memfd_create", 386: "bpf", 387: "execveat", 388: "userfaultfd", 389: "membarrier",
    390: "mlock2", 391: "copy_file_range", 392: "preadv2", 393: "pwritev2", 394: "pkey_mprotect", 395: "pkey_alloc",
    396: "pkey_free", 397: "statx", 398: "rseq", 399: "io_pgetevents", 400: "migrate_pages", 401: "kexec_file_load",
    403: "clock_gettime64", 404: "clock_settime64", 405: "clock_adjtime64", 406: "clock_getres_time64",
    407: "clock_nanosleep_time64", 408: "timer_gettime64", 409: "timer_settime64", 410: "timerfd_gettime64",
    411: "timerfd_settime64", 412: "utimensat_time64", 413: "pselect6_time64", 414: "ppoll_time64",
    416: "io_pgetevents_time64", 417: "recvmmsg_time64", 418: "mq_timedsend_time64", 419: "mq_timedreceive_time64",
    420: "semtimedop_time64", 421: "rt_sigtimedwait_time64", 422: "futex_time64",
    423: "sched_rr_get_interval_time64", 424: "pidfd_send_signal", 425: "io_uring_setup", 426: "io_uring_enter",
    427: "io_uring_register", 428: "open_tree", 429: "move_mount", 430: "fsopen", 431: "fsconfig", 432: "fsmount",
    433: "fspick", 434: "pidfd_open", 435: "clone3", 436: "close_range", 437: "openat2", 438: "pidfd_getfd",
    439: "faccessat2", 440: "process_madvise", 441: "epoll_pwait2", 442: "mount_setattr",
    444: "landlock_create_ruleset", 445: "landlock_add_rule", 446: "landlock_restrict_self", 448: "process_mrelease",
    449: "futex_waitv", 450: "set_mempolicy_home_node", 451: "cachestat", 452: "fchmodat2",
    # ARM private syscalls (__ARM_NR_BASE 0x0f0000)
    0xF0001: "ARM_breakpoint", 0xF0002: "ARM_cacheflush", 0xF0003: "ARM_usr26", 0xF0004: "ARM_usr32",
    0xF0005: "ARM_set_tls", 0xF0006: "ARM_get_tls",
}
SYSCALL_NUMBERS: dict[str, int] = {name: number for number, name in SYSCALL_NAMES.items()}

# ---- errno (asm-generic) ---------------------------------------------------------------------------------------------
ERRNO_NAMES: dict[int, str] = {
    1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 8: "ENOEXEC", 9: "EBADF",
    10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 15: "ENOTBLK", 16: "EBUSY", 17: "EEXIST",
    18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 25: "ENOTTY",
    26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK", 32: "EPIPE", 33: "EDOM",
    34: "ERANGE", 35: "EDEADLK", 36: "ENAMETOOLONG", 37: "ENOLCK", 38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP",
    42: "ENOMSG", 61: "ENODATA", 62: "ETIME", 71: "EPROTO", 74: "EBADMSG", 75: "EOVERFLOW", 77: "EBADFD",
    84: "EILSEQ", 88: "ENOTSOCK", 89: "EDESTADDRREQ", 90: "EMSGSIZE", 91: "EPROTOTYPE", 92: "ENOPROTOOPT",
    93: "EPROTONOSUPPORT", 94: "ESOCKTNOSUPPORT", 95: "EOPNOTSUPP", 96: "EPFNOSUPPORT", 97: "EAFNOSUPPORT",
    98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH", 102: "ENETRESET",
    103: "ECONNABORTED", 104: "ECONNRESET", 105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN", 108: "ESHUTDOWN",
    110: "ETIMEDOUT", 111: "ECONNREFUSED", 112: "EHOSTDOWN", 113: "EHOSTUNREACH", 114: "EALREADY",
    115: "EINPROGRESS", 116: "ESTALE", 122: "EDQUOT", 125: "ECANCELED", 130: "EOWNERDEAD", 131: "ENOTRECOVERABLE",
}
ERRNO_NUMBERS: dict[str, int] = {name: number for number, name in ERRNO_NAMES.items()}
globals().update(ERRNO_NUMBERS)          # EPERM, ENOENT, ... as module constants
EWOULDBLOCK = ERRNO_NUMBERS["EAGAIN"]
ENOTSUP = ERRNO_NUMBERS["EOPNOTSUPP"]

# ---- signals -------------------------------------------------------------------------------------------------------
SIGNAL_NAMES: dict[int, str] = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
    9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
    16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
    23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
    30: "SIGPWR", 31: "SIGSYS",
}
globals().update({name: number for number, name in SIGNAL_NAMES.items()})
NSIG = 64
SIGRTMIN = 32


def signal_name(sig: int) -> str:
    return SIGNAL_NAMES.get(sig) or (f"SIGRT{sig - SIGRTMIN}" if SIGRTMIN <= sig <= NSIG else f"signal {sig}")


# Default actions (signal(7)): terminate with a core dump, terminate, ignore, stop, continue.
CORE_SIGNALS = frozenset({3, 4, 5, 6, 7, 8, 11, 24, 25, 31})
IGNORED_BY_DEFAULT = frozenset({17, 18, 23, 28})
STOP_SIGNALS = frozenset({19, 20, 21, 22})
# sigaction flags (arch/arm/include/uapi/asm/signal.h)
SA_NOCLDSTOP, SA_NOCLDWAIT, SA_SIGINFO = 0x1, 0x2, 0x4
SA_RESTORER, SA_ONSTACK, SA_RESTART = 0x04000000, 0x08000000, 0x10000000
SA_NODEFER, SA_RESETHAND = 0x40000000, 0x80000000
SIG_DFL, SIG_IGN = 0, 1
SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2
SS_ONSTACK, SS_DISABLE = 1, 2
MINSIGSTKSZ = 2048
# si_code values
SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_TKILL = 0, 0x80, -1, -2, -6
SEGV_MAPERR, SEGV_ACCERR = 1, 2
BUS_ADRALN, BUS_ADRERR = 1, 2
ILL_ILLOPC = 1
TRAP_BRKPT = 1

# ---- files -----------------------------------------------------------------------------------------------------------
O_ACCMODE, O_RDONLY, O_WRONLY, O_RDWR = 0o3, 0o0, 0o1, 0o2
O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND, O_NONBLOCK = 0o100, 0o200, 0o400, 0o1000, 0o2000, 0o4000
O_DSYNC, O_ASYNC = 0o10000, 0o20000
# ARM moves these four (arch/arm/include/uapi/asm/fcntl.h)
O_DIRECTORY, O_NOFOLLOW, O_DIRECT, O_LARGEFILE = 0o40000, 0o100000, 0o200000, 0o400000
O_NOATIME, O_CLOEXEC, O_PATH = 0o1000000, 0o2000000, 0o10000000
O_TMPFILE = 0o20000000 | O_DIRECTORY
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH = 0x100, 0x200, 0x400, 0x800, 0x1000
AT_EACCESS = 0x200
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4
F_GETLK, F_SETLK, F_SETLKW, F_SETOWN, F_GETOWN = 5, 6, 7, 8, 9
F_GETLK64, F_SETLK64, F_SETLKW64 = 12, 13, 14
F_DUPFD_CLOEXEC = 1030
F_GETPIPE_SZ, F_SETPIPE_SZ = 1032, 1031
FD_CLOEXEC = 1
SEEK_SET, SEEK_CUR, SEEK_END = 0, 1, 2
S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO = (
    0o170000, 0o140000, 0o120000, 0o100000, 0o60000, 0o40000, 0o20000, 0o10000)
DT_UNKNOWN, DT_FIFO, DT_CHR, DT_DIR, DT_BLK, DT_REG, DT_LNK, DT_SOCK = 0, 1, 2, 4, 6, 8, 10, 12
R_OK, W_OK, X_OK, F_OK = 4, 2, 1, 0
PATH_MAX = 4096
IOV_MAX = 1024
# ioctl requests every tty-less stdio meets
TCGETS, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX = 0x5401, 0x5413, 0x5414, 0x541B, 0x5421, 0x5451, 0x5450

# ---- memory ----------------------------------------------------------------------------------------------------------
PAGE_SIZE = 4096
PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC = 0, 1, 2, 4
PROT_GROWSDOWN, PROT_GROWSUP = 0x01000000, 0x02000000
MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_TYPE = 0x01, 0x02, 0x03, 0x0F
MAP_FIXED, MAP_ANONYMOUS, MAP_GROWSDOWN, MAP_NORESERVE = 0x10, 0x20, 0x100, 0x4000
MAP_POPULATE, MAP_STACK, MAP_FIXED_NOREPLACE = 0x8000, 0x20000, 0x100000
MREMAP_MAYMOVE, MREMAP_FIXED = 1, 2

# ---- poll, epoll, timerfd, eventfd ------------------------------------------------------------------------------------
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLRDHUP = 0x40, 0x80, 0x100, 0x200, 0x2000
EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP = 0x1, 0x2, 0x4, 0x8, 0x10, 0x2000
EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT, EPOLLET = 1 << 28, 1 << 29, 1 << 30, 1 << 31
EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3
EPOLL_EVENT_SIZE = 16          # {u32 events; u64 data} aligned to 8 on ARM EABI (packed only on x86-64)
TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET = 1, 2
EFD_SEMAPHORE = 1

# ---- time -----------------------------------------------------------------------------------------------------------
CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID = 0, 1, 2, 3
CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME = 4, 5, 6, 7
CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM, CLOCK_TAI = 8, 9, 11
TIMER_ABSTIME = 1

# ---- threads and futexes --------------------------------------------------------------------------------------------
CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
CLONE_VFORK, CLONE_PARENT, CLONE_THREAD, CLONE_SYSVSEM, CLONE_SETTLS = 0x4000, 0x8000, 0x10000, 0x40000, 0x80000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_DETACHED, CLONE_CHILD_SETTID = 0x100000, 0x200000, 0x400000, 0x1000000
FUTEX_WAIT, FUTEX_WAKE, FUTEX_FD, FUTEX_REQUEUE, FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP = 0, 1, 2, 3, 4, 5
FUTEX_LOCK_PI, FUTEX_UNLOCK_PI, FUTEX_TRYLOCK_PI, FUTEX_WAIT_BITSET, FUTEX_WAKE_BITSET = 6, 7, 8, 9, 10
FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 128, 256
FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF
FUTEX_OWNER_DIED, FUTEX_WAITERS, FUTEX_TID_MASK = 0x40000000, 0x80000000, 0x3FFFFFFF

# ---- process start (auxv, include/uapi/linux/auxvec.h; HWCAP: arch/arm/include/uapi/asm/hwcap.h) --------------------
AT_NULL, AT_IGNORE, AT_EXECFD, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE = 0, 1, 2, 3, 4, 5, 6, 7
AT_FLAGS, AT_ENTRY, AT_NOTELF, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM = 8, 9, 10, 11, 12, 13, 14, 15
AT_HWCAP, AT_CLKTCK, AT_SECURE, AT_BASE_PLATFORM, AT_RANDOM, AT_HWCAP2, AT_EXECFN = 16, 17, 23, 24, 25, 26, 31
HWCAP_HALF, HWCAP_THUMB, HWCAP_FAST_MULT, HWCAP_VFP, HWCAP_EDSP = 1 << 1, 1 << 2, 1 << 4, 1 << 6, 1 << 7
HWCAP_NEON, HWCAP_VFPv3, HWCAP_TLS, HWCAP_VFPv4 = 1 << 12, 1 << 13, 1 << 15, 1 << 16
HWCAP_IDIVA, HWCAP_IDIVT, HWCAP_VFPD32, HWCAP_LPAE = 1 << 17, 1 << 18, 1 << 19, 1 << 20
# What Linux reports for a Cortex-A7 with NEON-VFPv4 (/proc/cpuinfo "Features: half thumb fastmult vfp edsp neon
# vfpv3 tls vfpv4 idiva idivt vfpd32 lpae"); no HWCAP2 bits (no crypto extension on the A7).
CORTEX_A7_HWCAP = (HWCAP_HALF | HWCAP_THUMB | HWCAP_FAST_MULT | HWCAP_VFP | HWCAP_EDSP | HWCAP_NEON | HWCAP_VFPv3
                   | HWCAP_TLS | HWCAP_VFPv4 | HWCAP_IDIVA | HWCAP_IDIVT | HWCAP_VFPD32 | HWCAP_LPAE)
PLATFORM = "v7l"

# ---- resource limits -------------------------------------------------------------------------------------------------
RLIMIT_NAMES = ("RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
                "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
                "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME")
RLIM_INFINITY = 0xFFFFFFFFFFFFFFFF
