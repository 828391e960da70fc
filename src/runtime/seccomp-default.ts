/**
 * wharf's built-in seccomp profile, in Docker's profile format (see seccomp.ts for the types and how a profile
 * becomes the OCI spec's linux.seccomp). Written from the rules Docker documents for its default profile: an
 * allowlist that refuses everything else with EPERM, calls that break isolation allowed only when the
 * capability that makes them safe is granted, and argument filters where a call is safe only in part.
 */
import type { DockerSeccompProfile, DockerSeccompRule } from "./seccomp.ts";

const EPERM = 1;
const ENOSYS = 38;

/** clone(2) flags that create namespaces: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
const CLONE_NAMESPACE_FLAGS =
  0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

/** AF_VSOCK: reaches the hypervisor host, outside the container's network namespace. */
const AF_VSOCK = 40;

/**
 * Calls every container may make: plain file, memory, process, signal, time-reading, IPC and socket work
 * that the kernel confines to the container's namespaces and credentials. Names unknown to an architecture
 * (the 32-bit *64 and *32 variants on x86_64 and the reverse) are skipped by the runtime.
 */
const ALLOWED: readonly string[] = `
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64
close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
eventfd eventfd2 execve execveat exit exit_group
faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2
fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr
fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64
futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32
getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32
getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area
gettid gettimeofday getuid getuid32 getxattr
inotify_add_watch inotify_init inotify_init1 inotify_rm_watch
io_cancel ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set
io_setup io_submit ipc kill
landlock_add_rule landlock_create_ruleset landlock_restrict_self
lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr
lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat
mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect
mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64
mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock munlockall munmap
nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2
pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2
read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
removexattr rename renameat renameat2 restart_syscall rmdir rseq
rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
rt_sigtimedwait_time64 rt_tgsigqueueinfo
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr
sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto
setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid
setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range
syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
`
  .split(/\s+/)
  .filter(Boolean);

/** personality(2) values that only change how the process sees the kernel, not what it may do. */
const SAFE_PERSONALITIES: readonly number[] = [
  0x0, // PER_LINUX
  0x8, // PER_LINUX32
  0x20000, // UNAME26
  0x20008, // UNAME26 | PER_LINUX32
  0xffffffff, // query the current persona
];

/** Calls that need a capability to be safe: allowed only when the container holds it (bounding set). */
const BY_CAPABILITY: readonly [cap: string, names: readonly string[]][] = [
  [
    "CAP_SYS_ADMIN",
    [
      "bpf",
      "clone",
      "clone3",
      "fanotify_init",
      "fsconfig",
      "fsmount",
      "fsopen",
      "fspick",
      "lookup_dcookie",
      "mount",
      "mount_setattr",
      "move_mount",
      "name_to_handle_at",
      "open_tree",
      "perf_event_open",
      "quotactl",
      "quotactl_fd",
      "setdomainname",
      "sethostname",
      "setns",
      "swapoff",
      "swapon",
      "syslog",
      "umount",
      "umount2",
      "unshare",
    ],
  ],
  ["CAP_SYS_BOOT", ["reboot"]],
  ["CAP_SYS_CHROOT", ["chroot"]],
  ["CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]],
  ["CAP_SYS_PACCT", ["acct"]],
  [
    "CAP_SYS_PTRACE",
    ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
  ],
  ["CAP_SYS_RAWIO", ["iopl", "ioperm"]],
  [
    "CAP_SYS_TIME",
    ["settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64"],
  ],
  ["CAP_SYS_TTY_CONFIG", ["vhangup"]],
  ["CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]],
  ["CAP_SYSLOG", ["syslog"]],
  ["CAP_BPF", ["bpf"]],
  ["CAP_PERFMON", ["perf_event_open"]],
  ["CAP_DAC_READ_SEARCH", ["open_by_handle_at", "name_to_handle_at"]],
];

function allow(
  names: readonly string[],
  extra: Omit<DockerSeccompRule, "names" | "action"> = {},
): DockerSeccompRule {
  return { names: [...names], action: "SCMP_ACT_ALLOW", ...extra };
}

/**
 * The built-in profile. Deliberately never allowed, whatever the capabilities (a privileged container runs
 * without seccomp instead): kexec_load/kexec_file_load, keyctl/add_key/request_key (the keyring is not
 * namespaced), userfaultfd, io_uring, uselib, ustat, sysfs, _sysctl, nfsservctl, vm86, create_module,
 * get_kernel_syms, query_module.
 */
export function builtinSeccompProfile(): DockerSeccompProfile {
  const syscalls: DockerSeccompRule[] = [
    allow(ALLOWED),
    ...SAFE_PERSONALITIES.map((value) =>
      allow(["personality"], { args: [{ index: 0, value, op: "SCMP_CMP_EQ" }] }),
    ),
    // ptrace and its relatives were a seccomp bypass before Linux 4.8; since then Docker allows them.
    allow(["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"], {
      includes: { minKernel: "4.8" },
    }),
    allow(["socket"], { args: [{ index: 0, value: AF_VSOCK, op: "SCMP_CMP_NE" }] }),
    allow(["arch_prctl"], { includes: { arches: ["amd64", "x32"] } }),
    allow(["modify_ldt"], { includes: { arches: ["amd64", "x32", "x86"] } }),
    // Threads and forks, never new namespaces: clone with any CLONE_NEW* flag is refused.
    allow(["clone"], {
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
      excludes: { caps: ["CAP_SYS_ADMIN"] },
    }),
    // clone3 passes its flags in memory seccomp cannot read: ENOSYS makes libc fall back to clone.
    {
      names: ["clone3"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: ENOSYS,
      excludes: { caps: ["CAP_SYS_ADMIN"] },
    },
    ...BY_CAPABILITY.map(([cap, names]) => allow(names, { includes: { caps: [cap] } })),
  ];
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: EPERM,
    archMap: [
      { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
      { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
    ],
    syscalls,
  };
}
