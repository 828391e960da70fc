/*
 * The few syscalls Node.js has no binding for: mount/umount2, mknod (overlay whiteouts), extended attributes
 * (overlay opaque dirs, file capabilities in layers), and SOCK_SEQPACKET (conmon's attach socket).
 *
 * Only Node-API (node_api.h) is used, so one build loads in any Node version.
 * Errors are thrown as JS Errors carrying `code` (the errno name) and `errno`, like Node's own fs errors.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <stdio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#define MAX_ARGS 6
#define PATH_BUF 4096

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOTSUP: return "ENOTSUP";
    case ENODATA: return "ENODATA";
    case ERANGE: return "ERANGE";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTCONN: return "ENOTCONN";
    case EPROTOTYPE: return "EPROTOTYPE";
    case ELOOP: return "ELOOP";
    case ENODEV: return "ENODEV";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETUNREACH: return "ENETUNREACH";
    case ESRCH: return "ESRCH";
    default: return "EUNKNOWN";
  }
}

/* A Node-style errno error (`code`, `errno`, `syscall`, `path`), for throwing or rejecting a promise with. */
static napi_value errno_error(napi_env env, const char *syscall, const char *path, int e) {
  char msg[PATH_BUF + 128];
  snprintf(msg, sizeof msg, "%s: %s, %s%s%s", errno_name(e), strerror(e), syscall, path ? " '" : "",
           path ? path : "");
  if (path) strncat(msg, "'", sizeof msg - strlen(msg) - 1);
  napi_value msgv, err, codev, errnov, sysv;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msgv);
  napi_create_error(env, NULL, msgv, &err);
  napi_create_string_utf8(env, errno_name(e), NAPI_AUTO_LENGTH, &codev);
  napi_create_int32(env, -e, &errnov);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sysv);
  napi_set_named_property(env, err, "code", codev);
  napi_set_named_property(env, err, "errno", errnov);
  napi_set_named_property(env, err, "syscall", sysv);
  if (path) {
    napi_value pathv;
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &pathv);
    napi_set_named_property(env, err, "path", pathv);
  }
  return err;
}

static napi_value throw_errno(napi_env env, const char *syscall, const char *path, int e) {
  napi_throw(env, errno_error(env, syscall, path, e));
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* Reads argument i as a string into buf; an undefined/null argument gives an empty string and *present=0. */
static int get_str(napi_env env, napi_value v, char *buf, size_t len, int *present) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) {
    buf[0] = 0;
    if (present) *present = 0;
    return 1;
  }
  if (t != napi_string) return 0;
  size_t n;
  if (napi_get_value_string_utf8(env, v, buf, len, &n) != napi_ok || n >= len - 1) return 0;
  if (present) *present = 1;
  return 1;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* mount(source, target, fstype, flags, data) */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  static char src[PATH_BUF], tgt[PATH_BUF], fstype[256];
  char *data = malloc(65536);
  if (!data) return throw_errno(env, "mount", NULL, ENOMEM);
  int has_src, has_fs, has_data;
  uint32_t flags = 0;
  if (argc < 5 || !get_str(env, argv[0], src, sizeof src, &has_src) ||
      !get_str(env, argv[1], tgt, sizeof tgt, NULL) || !get_str(env, argv[2], fstype, sizeof fstype, &has_fs) ||
      napi_get_value_uint32(env, argv[3], &flags) != napi_ok ||
      !get_str(env, argv[4], data, 65536, &has_data)) {
    free(data);
    return throw_type(env, "mount(source, target, fstype, flags, data)");
  }
  int r = mount(has_src ? src : NULL, tgt, has_fs ? fstype : NULL, flags, has_data ? data : NULL);
  int e = errno;
  free(data);
  if (r != 0) return throw_errno(env, "mount", tgt, e);
  return undefined(env);
}

/* umount2(target, flags) */
static napi_value js_umount2(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char tgt[PATH_BUF];
  uint32_t flags = 0;
  if (argc < 2 || !get_str(env, argv[0], tgt, sizeof tgt, NULL) ||
      napi_get_value_uint32(env, argv[1], &flags) != napi_ok)
    return throw_type(env, "umount2(target, flags)");
  if (umount2(tgt, (int)flags) != 0) return throw_errno(env, "umount2", tgt, errno);
  return undefined(env);
}

/* mknod(path, mode, major, minor) */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF];
  uint32_t mode, maj, min;
  if (argc < 4 || !get_str(env, argv[0], path, sizeof path, NULL) ||
      napi_get_value_uint32(env, argv[1], &mode) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &maj) != napi_ok || napi_get_value_uint32(env, argv[3], &min) != napi_ok)
    return throw_type(env, "mknod(path, mode, major, minor)");
  if (mknod(path, mode, makedev(maj, min)) != 0) return throw_errno(env, "mknod", path, errno);
  return undefined(env);
}

/* lsetxattr(path, name, value: Buffer) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF], name[256];
  void *data;
  size_t len;
  bool isbuf = false;
  if (argc >= 3) napi_is_buffer(env, argv[2], &isbuf);
  if (argc < 3 || !get_str(env, argv[0], path, sizeof path, NULL) ||
      !get_str(env, argv[1], name, sizeof name, NULL) || !isbuf ||
      napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok)
    return throw_type(env, "lsetxattr(path, name, value)");
  if (lsetxattr(path, name, data, len, 0) != 0) return throw_errno(env, "lsetxattr", path, errno);
  return undefined(env);
}

/* lgetxattr(path, name) -> Buffer | undefined (absent attribute) */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF], name[256];
  if (argc < 2 || !get_str(env, argv[0], path, sizeof path, NULL) ||
      !get_str(env, argv[1], name, sizeof name, NULL))
    return throw_type(env, "lgetxattr(path, name)");
  char buf[65536];
  ssize_t n = lgetxattr(path, name, buf, sizeof buf);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) return undefined(env);
    return throw_errno(env, "lgetxattr", path, errno);
  }
  napi_value out;
  void *dst;
  napi_create_buffer_copy(env, (size_t)n, buf, &dst, &out);
  return out;
}

/* llistxattr(path) -> string[] */
static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF];
  if (argc < 1 || !get_str(env, argv[0], path, sizeof path, NULL)) return throw_type(env, "llistxattr(path)");
  char buf[65536];
  ssize_t n = llistxattr(path, buf, sizeof buf);
  napi_value arr;
  napi_create_array(env, &arr);
  if (n < 0) {
    if (errno == ENOTSUP) return arr;
    return throw_errno(env, "llistxattr", path, errno);
  }
  uint32_t idx = 0;
  for (ssize_t off = 0; off < n;) {
    size_t l = strlen(buf + off);
    napi_value s;
    napi_create_string_utf8(env, buf + off, l, &s);
    napi_set_element(env, arr, idx++, s);
    off += (ssize_t)l + 1;
  }
  return arr;
}

/*
 * Attach relay. conmon's attach socket is SOCK_SEQPACKET, which libuv cannot wrap. We connect to it and
 * start a thread that relays between it and one end of a SOCK_STREAM socketpair; JS gets the other end,
 * which net.Socket({fd}) accepts. Each packet from conmon (first byte: which pipe) is re-framed on the
 * stream as [pipe byte][uint32 big-endian length][payload], so JS can split stdout from stderr.
 * Bytes JS writes become packets to conmon (container stdin). When JS ends its side, the seqpacket
 * socket's write side is shut down, which conmon reads as the client closing stdin.
 */
struct relay {
  int seq;
  int stream;
};

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, -1);
        continue;
      }
      return -1;
    }
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

static void *relay_main(void *arg) {
  struct relay *r = arg;
  char buf[65536];
  int stream_open = 1, seq_open = 1;
  while (seq_open) {
    struct pollfd p[2] = {{.fd = r->seq, .events = POLLIN}, {.fd = stream_open ? r->stream : -1, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(r->seq, buf, 65536, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        seq_open = 0;
        break;
      }
      /* conmon prefixes each packet with one byte naming the pipe; keep it and add the payload length. */
      uint32_t plen = (uint32_t)(n - 1);
      char hdr[5] = {buf[0], (char)((plen >> 24) & 0xff), (char)((plen >> 16) & 0xff), (char)((plen >> 8) & 0xff),
                     (char)(plen & 0xff)};
      if (write_all(r->stream, hdr, 5) < 0 || write_all(r->stream, buf + 1, plen) < 0) break;
    }
    if (stream_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(r->stream, buf, 8192);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        stream_open = 0;
        shutdown(r->seq, SHUT_WR);
        continue;
      }
      if (send(r->seq, buf, (size_t)n, MSG_NOSIGNAL) < 0) {
        stream_open = 0;
      }
    }
  }
  close(r->seq);
  shutdown(r->stream, SHUT_RDWR);
  close(r->stream);
  free(r);
  return NULL;
}

/* Connects to the SOCK_SEQPACKET socket at path and starts the relay thread: 0 and *fd_out, or an errno. */
static int attach_connect(const char *path, int *fd_out, const char **syscall) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  *syscall = "connect";
  if (strlen(path) >= sizeof addr.sun_path) return ENAMETOOLONG;
  strcpy(addr.sun_path, path);
  int seq = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (seq < 0) {
    *syscall = "socket";
    return errno;
  }
  if (connect(seq, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(seq);
    return e;
  }
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
    int e = errno;
    close(seq);
    *syscall = "socketpair";
    return e;
  }
  struct relay *r = malloc(sizeof *r);
  if (!r) {
    close(seq);
    close(sp[0]);
    close(sp[1]);
    *syscall = "malloc";
    return ENOMEM;
  }
  r->seq = seq;
  r->stream = sp[1];
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  int pe = pthread_create(&t, &attr, relay_main, r);
  pthread_attr_destroy(&attr);
  if (pe != 0) {
    close(seq);
    close(sp[0]);
    close(sp[1]);
    free(r);
    *syscall = "pthread_create";
    return pe;
  }
  *fd_out = sp[0];
  return 0;
}

/* attachRelay(socketPath) -> fd of a SOCK_STREAM socket relaying to the SOCK_SEQPACKET socket at socketPath */
static napi_value js_attach_relay(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF];
  if (argc < 1 || !get_str(env, argv[0], path, sizeof path, NULL)) return throw_type(env, "attachRelay(path)");
  int fd = -1;
  const char *sc = "connect";
  int e = attach_connect(path, &fd, &sc);
  if (e) return throw_errno(env, sc, strcmp(sc, "connect") == 0 ? path : NULL, e);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}


/*
 * Network namespaces. Each job runs on a short-lived thread that joins or creates the namespace, so the
 * daemon's own threads never leave the host's network namespace. The synchronous calls wait for that
 * thread on the event loop; the *Async ones (below) wait on a pool thread.
 */
#include <sched.h>
#include <linux/netlink.h>
#include <sys/syscall.h>

struct ns_job {
  int op; /* 0: create a persistent netns at path; 1: socket() inside the netns at path */
  char path[PATH_BUF];
  int domain, type, protocol;
  int result;
  int err;
  const char *syscall;
};

static void *ns_job_main(void *arg) {
  struct ns_job *j = arg;
  j->result = -1;
  if (j->op == 0) {
    if (unshare(CLONE_NEWNET) != 0) {
      j->err = errno;
      j->syscall = "unshare";
      return NULL;
    }
    char self[64];
    snprintf(self, sizeof self, "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
    if (mount(self, j->path, NULL, MS_BIND, NULL) != 0) {
      j->err = errno;
      j->syscall = "mount";
      return NULL;
    }
    j->result = 0;
    return NULL;
  }
  int nsfd = open(j->path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) {
    j->err = errno;
    j->syscall = "open";
    return NULL;
  }
  if (setns(nsfd, CLONE_NEWNET) != 0) {
    j->err = errno;
    j->syscall = "setns";
    close(nsfd);
    return NULL;
  }
  close(nsfd);
  int fd = socket(j->domain, j->type | SOCK_CLOEXEC, j->protocol);
  if (fd < 0) {
    j->err = errno;
    j->syscall = "socket";
    return NULL;
  }
  j->result = fd;
  return NULL;
}

static napi_value run_ns_job(napi_env env, struct ns_job *j) {
  pthread_t t;
  int pe = pthread_create(&t, NULL, ns_job_main, j);
  if (pe != 0) return throw_errno(env, "pthread_create", NULL, pe);
  pthread_join(t, NULL);
  if (j->result < 0) return throw_errno(env, j->syscall, j->path, j->err);
  napi_value out;
  napi_create_int32(env, j->result, &out);
  return out;
}

/* netnsCreate(path): a new network namespace kept alive by a bind mount on path (an existing empty file) */
static napi_value js_netns_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct ns_job j = {.op = 0};
  if (argc < 1 || !get_str(env, argv[0], j.path, sizeof j.path, NULL)) return throw_type(env, "netnsCreate(path)");
  return run_ns_job(env, &j);
}

/* nsSocket(nsPath, domain, type, protocol) -> fd of a socket created inside the netns at nsPath */
static napi_value js_ns_socket(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct ns_job j = {.op = 1};
  if (argc < 4 || !get_str(env, argv[0], j.path, sizeof j.path, NULL) ||
      napi_get_value_int32(env, argv[1], &j.domain) != napi_ok ||
      napi_get_value_int32(env, argv[2], &j.type) != napi_ok ||
      napi_get_value_int32(env, argv[3], &j.protocol) != napi_ok)
    return throw_type(env, "nsSocket(nsPath, domain, type, protocol)");
  return run_ns_job(env, &j);
}

/*
 * netlinkTransact(fd, request) -> Buffer: sends one netlink request (already framed, NLM_F_ACK or NLM_F_DUMP set)
 * and reads until its ACK or NLMSG_DONE. Returns every reply message except the final ACK/DONE; a negative
 * ACK is thrown as an errno error. Synchronous: a netlink round trip is a few microseconds.
 */
/* One netlink exchange (see netlinkTransact): 0 and the replies in *out (malloc'd), or an errno. */
static int netlink_do(int fd, const void *req, size_t reqlen, char **outp, size_t *outlen, const char **syscall) {
  uint32_t seq = ((const struct nlmsghdr *)req)->nlmsg_seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent;
  do sent = sendto(fd, req, reqlen, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) {
    *syscall = "sendto";
    return errno;
  }
  *syscall = "netlink";
  size_t cap = 65536, len = 0;
  char *out = malloc(cap);
  char *buf = malloc(65536);
  if (!out || !buf) {
    free(out);
    free(buf);
    return ENOMEM;
  }
  int done = 0, err = 0;
  while (!done) {
    ssize_t n = recv(fd, buf, 65536, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) {
        done = 1;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        err = -e->error;
        done = 1;
        break;
      }
      size_t alen = NLMSG_ALIGN(h->nlmsg_len);
      if (len + alen > cap) {
        while (len + alen > cap) cap *= 2;
        char *grown = realloc(out, cap);
        if (!grown) {
          err = ENOMEM;
          done = 1;
          break;
        }
        out = grown;
      }
      memset(out + len, 0, alen);
      memcpy(out + len, h, h->nlmsg_len);
      len += alen;
    }
  }
  free(buf);
  if (err) {
    free(out);
    return err;
  }
  *outp = out;
  *outlen = len;
  return 0;
}

/*
 * netlinkTransact(fd, request) -> Buffer: sends one netlink request (already framed, NLM_F_ACK or NLM_F_DUMP set)
 * and reads until its ACK or NLMSG_DONE. Returns every reply message except the final ACK/DONE; a negative
 * ACK is thrown as an errno error.
 */
static napi_value js_netlink_transact(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  void *req;
  size_t reqlen;
  bool isbuf = false;
  if (argc >= 2) napi_is_buffer(env, argv[1], &isbuf);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !isbuf ||
      napi_get_buffer_info(env, argv[1], &req, &reqlen) != napi_ok || reqlen < sizeof(struct nlmsghdr))
    return throw_type(env, "netlinkTransact(fd, request)");
  char *out = NULL;
  size_t len = 0;
  const char *sc = "netlink";
  int err = netlink_do(fd, req, reqlen, &out, &len, &sc);
  if (err) return throw_errno(env, sc, NULL, err);
  napi_value result;
  void *dst;
  napi_create_buffer_copy(env, len, out, &dst, &result);
  free(out);
  return result;
}

/*
 * Promise-returning variants. The syscalls run on a libuv pool thread, so the event loop never waits on the
 * kernel (an overlay mount or a new network namespace can take milliseconds). Work that changes per-thread
 * state (the network namespace, the cwd) runs on a short-lived thread of its own, started and joined from
 * the pool thread: pool threads are shared with node:fs and must stay in the host's namespaces and cwd.
 */
enum { OP_MOUNT, OP_UMOUNT, OP_NETNS, OP_NETLINK, OP_ATTACH };

struct async_job {
  napi_async_work work;
  napi_deferred deferred;
  int op;
  struct ns_job ns;
  char src[PATH_BUF], tgt[PATH_BUF], fstype[256], cwd[PATH_BUF];
  char *data;
  int has_src, has_fs, has_data, has_cwd;
  uint32_t flags;
  int fd;
  char *req, *out;
  size_t reqlen, outlen;
  int result, err;
  const char *syscall;
  const char *errpath;
};

/* A thread with its own cwd (unshare(CLONE_FS)), so relative overlay lower dirs resolve without a process chdir. */
static void *mount_in_dir_main(void *arg) {
  struct async_job *j = arg;
  if (unshare(CLONE_FS) != 0) {
    j->err = errno;
    j->syscall = "unshare";
    return NULL;
  }
  if (chdir(j->cwd) != 0) {
    j->err = errno;
    j->syscall = "chdir";
    j->errpath = j->cwd;
    return NULL;
  }
  if (mount(j->has_src ? j->src : NULL, j->tgt, j->has_fs ? j->fstype : NULL, j->flags,
            j->has_data ? j->data : NULL) != 0) {
    j->err = errno;
    j->syscall = "mount";
    j->errpath = j->tgt;
  }
  return NULL;
}

static void async_execute(napi_env env, void *data) {
  struct async_job *j = data;
  switch (j->op) {
    case OP_MOUNT:
      if (j->has_cwd) {
        pthread_t t;
        int pe = pthread_create(&t, NULL, mount_in_dir_main, j);
        if (pe != 0) {
          j->err = pe;
          j->syscall = "pthread_create";
        } else
          pthread_join(t, NULL);
      } else if (mount(j->has_src ? j->src : NULL, j->tgt, j->has_fs ? j->fstype : NULL, j->flags,
                       j->has_data ? j->data : NULL) != 0) {
        j->err = errno;
        j->syscall = "mount";
        j->errpath = j->tgt;
      }
      break;
    case OP_UMOUNT:
      if (umount2(j->tgt, (int)j->flags) != 0) {
        j->err = errno;
        j->syscall = "umount2";
        j->errpath = j->tgt;
      }
      break;
    case OP_NETNS: {
      pthread_t t;
      int pe = pthread_create(&t, NULL, ns_job_main, &j->ns);
      if (pe != 0) {
        j->err = pe;
        j->syscall = "pthread_create";
        break;
      }
      pthread_join(t, NULL);
      if (j->ns.result < 0) {
        j->err = j->ns.err;
        j->syscall = j->ns.syscall;
        j->errpath = j->ns.path;
      } else
        j->result = j->ns.result;
      break;
    }
    case OP_NETLINK:
      j->err = netlink_do(j->fd, j->req, j->reqlen, &j->out, &j->outlen, &j->syscall);
      break;
    case OP_ATTACH:
      j->err = attach_connect(j->tgt, &j->result, &j->syscall);
      if (j->err && strcmp(j->syscall, "connect") == 0) j->errpath = j->tgt;
      break;
  }
}

static void async_complete(napi_env env, napi_status status, void *data) {
  struct async_job *j = data;
  napi_value v;
  if (status != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "native work cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &v);
    napi_reject_deferred(env, j->deferred, v);
  } else if (j->err) {
    napi_reject_deferred(env, j->deferred, errno_error(env, j->syscall, j->errpath, j->err));
  } else {
    if (j->op == OP_NETLINK) {
      void *dst;
      napi_create_buffer_copy(env, j->outlen, j->out, &dst, &v);
    } else if (j->op == OP_ATTACH || (j->op == OP_NETNS && j->ns.op == 1))
      napi_create_int32(env, j->result, &v);
    else
      napi_get_undefined(env, &v);
    napi_resolve_deferred(env, j->deferred, v);
  }
  napi_delete_async_work(env, j->work);
  free(j->data);
  free(j->req);
  free(j->out);
  free(j);
}

static struct async_job *new_job(int op) {
  struct async_job *j = calloc(1, sizeof *j);
  if (j) j->op = op;
  return j;
}

/* Queues j and returns its promise; on a bad argument (ok == 0) frees j and throws `usage` instead. */
static napi_value queue_job(napi_env env, struct async_job *j, int ok, const char *usage) {
  if (!j) return throw_errno(env, "malloc", NULL, ENOMEM);
  if (!ok) {
    free(j->data);
    free(j->req);
    free(j);
    return throw_type(env, usage);
  }
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "wharf_native", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, async_execute, async_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

/* mountAsync(source, target, fstype, flags, data, cwd?) -> Promise<void>; cwd: where relative paths in data resolve */
static napi_value js_mount_async(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct async_job *j = new_job(OP_MOUNT);
  if (j) j->data = malloc(65536);
  int ok = j && j->data && argc >= 5 && get_str(env, argv[0], j->src, sizeof j->src, &j->has_src) &&
           get_str(env, argv[1], j->tgt, sizeof j->tgt, NULL) &&
           get_str(env, argv[2], j->fstype, sizeof j->fstype, &j->has_fs) &&
           napi_get_value_uint32(env, argv[3], &j->flags) == napi_ok &&
           get_str(env, argv[4], j->data, 65536, &j->has_data) &&
           (argc < 6 || get_str(env, argv[5], j->cwd, sizeof j->cwd, &j->has_cwd));
  return queue_job(env, j, ok, "mountAsync(source, target, fstype, flags, data, cwd?)");
}

/* umount2Async(target, flags) -> Promise<void> */
static napi_value js_umount2_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct async_job *j = new_job(OP_UMOUNT);
  int ok = j && argc >= 2 && get_str(env, argv[0], j->tgt, sizeof j->tgt, NULL) &&
           napi_get_value_uint32(env, argv[1], &j->flags) == napi_ok;
  return queue_job(env, j, ok, "umount2Async(target, flags)");
}

/* netnsCreateAsync(path) -> Promise<void> */
static napi_value js_netns_create_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct async_job *j = new_job(OP_NETNS);
  if (j) j->ns.op = 0;
  int ok = j && argc >= 1 && get_str(env, argv[0], j->ns.path, sizeof j->ns.path, NULL);
  return queue_job(env, j, ok, "netnsCreateAsync(path)");
}

/* nsSocketAsync(nsPath, domain, type, protocol) -> Promise<fd> */
static napi_value js_ns_socket_async(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct async_job *j = new_job(OP_NETNS);
  if (j) j->ns.op = 1;
  int ok = j && argc >= 4 && get_str(env, argv[0], j->ns.path, sizeof j->ns.path, NULL) &&
           napi_get_value_int32(env, argv[1], &j->ns.domain) == napi_ok &&
           napi_get_value_int32(env, argv[2], &j->ns.type) == napi_ok &&
           napi_get_value_int32(env, argv[3], &j->ns.protocol) == napi_ok;
  return queue_job(env, j, ok, "nsSocketAsync(nsPath, domain, type, protocol)");
}

/* netlinkTransactAsync(fd, request) -> Promise<Buffer>; the caller keeps one exchange per socket at a time */
static napi_value js_netlink_transact_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct async_job *j = new_job(OP_NETLINK);
  bool isbuf = false;
  void *req = NULL;
  size_t reqlen = 0;
  if (argc >= 2) napi_is_buffer(env, argv[1], &isbuf);
  int ok = j && argc >= 2 && napi_get_value_int32(env, argv[0], &j->fd) == napi_ok && isbuf &&
           napi_get_buffer_info(env, argv[1], &req, &reqlen) == napi_ok && reqlen >= sizeof(struct nlmsghdr);
  /* The request is copied: the JS buffer may move or be reused before the pool thread reads it. */
  if (ok) {
    j->req = malloc(reqlen);
    if (!j->req) ok = 0;
    else {
      memcpy(j->req, req, reqlen);
      j->reqlen = reqlen;
    }
  }
  return queue_job(env, j, ok, "netlinkTransactAsync(fd, request)");
}

/* attachRelayAsync(socketPath) -> Promise<fd>, as attachRelay */
static napi_value js_attach_relay_async(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct async_job *j = new_job(OP_ATTACH);
  int ok = j && argc >= 1 && get_str(env, argv[0], j->tgt, sizeof j->tgt, NULL);
  return queue_job(env, j, ok, "attachRelayAsync(path)");
}

/* socketPair() -> [fd, fd]: a close-on-exec AF_UNIX stream pair, what node's spawn uses for a "pipe" */
static napi_value js_socket_pair(napi_env env, napi_callback_info info) {
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) return throw_errno(env, "socketpair", NULL, errno);
  napi_value arr, a, b;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_int32(env, sp[0], &a);
  napi_create_int32(env, sp[1], &b);
  napi_set_element(env, arr, 0, a);
  napi_set_element(env, arr, 1, b);
  return arr;
}

/* peerCred(fd) -> {pid, uid, gid} of the process at the other end of a unix socket (SO_PEERCRED). */
static napi_value js_peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return throw_type(env, "peerCred(fd)");
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) return throw_errno(env, "getsockopt", NULL, errno);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_int32(env, cr.pid, &v);
  napi_set_named_property(env, o, "pid", v);
  napi_create_uint32(env, cr.uid, &v);
  napi_set_named_property(env, o, "uid", v);
  napi_create_uint32(env, cr.gid, &v);
  napi_set_named_property(env, o, "gid", v);
  return o;
}

/*
 * Hands the allocator's free memory back to the kernel: glibc keeps what threads freed in their arenas
 * (start-up's parsing and compiling, an ended worker thread's isolate) resident until trimmed. True when
 * something was released; false where the C library has no malloc_trim.
 */
static napi_value js_malloc_trim(napi_env env, napi_callback_info info) {
  (void)info;
  int released = 0;
#ifdef __GLIBC__
  released = malloc_trim(0);
#endif
  napi_value v;
  napi_get_boolean(env, released != 0, &v);
  return v;
}

/*
 * spawnWait(path, argv, envp, cwd, fds, setsid, closeFds, notifyFd) -> pid: starts a program with
 * posix_spawn, whose glibc implementation is clone(CLONE_VM|CLONE_VFORK): unlike libuv's fork() it copies
 * no page tables and leaves no copy-on-write pages behind, so the daemon's main thread is not stalled on
 * its mmap_lock or on COW faults while the child gets to exec (host/spawner.ts). fds[i] becomes the
 * child's fd i (-1: /dev/null); with closeFds, ours are closed once the child has its copies (success or not),
 * as a net.Socket on them would make the shared file non-blocking under the child. notifyFd (a socket,
 * ours from the call on, closed after) receives the child's wait status as an int. The exit is waited
 * for on a thread of its own, not a pool thread: a program may run for long. libuv reaps only the children it started, so this pid is ours to wait for.
 */
#include <spawn.h>
#include <signal.h>
#include <sys/wait.h>

struct spawn_job {
  pid_t pid;
  int notify_fd;
};

/* Waits for the child and writes its wait status (an int) to notify_fd. No Node-API call is made from
 * here: the worker's environment may be gone by then (a worker or process torn down while a program
 * runs), and a socket nobody reads any more is safe to write to. */
static void *spawn_wait_main(void *arg) {
  struct spawn_job *j = arg;
  int st = 0;
  while (waitpid(j->pid, &st, 0) < 0 && errno == EINTR) {
  }
  (void)!send(j->notify_fd, &st, sizeof st, MSG_NOSIGNAL);
  close(j->notify_fd);
  free(j);
  return NULL;
}

static void free_strv(char **v) {
  if (!v) return;
  for (char **p = v; *p; p++) free(*p);
  free(v);
}

/* A NULL-terminated copy of a JS array of strings, or NULL (bad argument or no memory). */
static char **get_strv(napi_env env, napi_value arr) {
  uint32_t n;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **v = calloc(n + 1, sizeof *v);
  if (!v) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    size_t len;
    napi_get_element(env, arr, i, &e);
    if (napi_get_value_string_utf8(env, e, NULL, 0, &len) != napi_ok || !(v[i] = malloc(len + 1))) {
      free_strv(v);
      return NULL;
    }
    napi_get_value_string_utf8(env, e, v[i], len + 1, &len);
  }
  return v;
}

#define SPAWN_FDS 8

static napi_value js_spawn_wait(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF], cwd[PATH_BUF];
  int has_cwd = 0;
  bool setsid_ = false, close_fds = false;
  uint32_t nfd = 0;
  int32_t notify_fd = -1;
  if (argc < 7 || !get_str(env, argv[0], path, sizeof path, NULL) || !get_str(env, argv[3], cwd, sizeof cwd, &has_cwd) ||
      napi_get_array_length(env, argv[4], &nfd) != napi_ok || nfd > SPAWN_FDS ||
      napi_get_value_bool(env, argv[5], &setsid_) != napi_ok || napi_get_value_bool(env, argv[6], &close_fds) != napi_ok ||
      napi_get_value_int32(env, argv[7], &notify_fd) != napi_ok || notify_fd < 0)
    return throw_type(env, "spawnWait(path, argv, envp, cwd, fds, setsid, closeFds, notifyFd)");
  int fds[SPAWN_FDS];
  for (uint32_t i = 0; i < nfd; i++) {
    napi_value e;
    napi_get_element(env, argv[4], i, &e);
    if (napi_get_value_int32(env, e, &fds[i]) != napi_ok) return throw_type(env, "spawnWait: fds must be numbers");
  }
  char **av = get_strv(env, argv[1]), **ev = get_strv(env, argv[2]);
  if (!av || !ev) {
    free_strv(av);
    free_strv(ev);
    return throw_type(env, "spawnWait: argv and envp must be arrays of strings");
  }
  /* A source fd below nfd could be overwritten by an earlier dup2, and dup2(fd, fd) would keep its
   * close-on-exec flag: such fds are moved above the targets first. */
  int moved[SPAWN_FDS];
  for (uint32_t i = 0; i < nfd; i++) {
    moved[i] = -1;
    if (fds[i] >= 0 && fds[i] < (int)nfd) {
      moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, (int)nfd);
      if (moved[i] < 0) {
        int e = errno;
        for (uint32_t k = 0; k < i; k++)
          if (moved[k] >= 0) close(moved[k]);
        free_strv(av);
        free_strv(ev);
        return throw_errno(env, "fcntl", NULL, e);
      }
    }
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  for (uint32_t i = 0; i < nfd; i++) {
    int src = moved[i] >= 0 ? moved[i] : fds[i];
    if (src >= 0)
      posix_spawn_file_actions_adddup2(&fa, src, (int)i);
    else
      posix_spawn_file_actions_addopen(&fa, (int)i, "/dev/null", O_RDWR, 0);
  }
  if (has_cwd) posix_spawn_file_actions_addchdir_np(&fa, cwd);
  /* As libuv does for its children: default dispositions (node ignores SIGPIPE) and no blocked signals. */
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&at, &all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (setsid_ ? POSIX_SPAWN_SETSID : 0));
  pid_t pid;
  int err = posix_spawn(&pid, path, &fa, &at, av, ev);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  for (uint32_t i = 0; i < nfd; i++) {
    if (moved[i] >= 0) close(moved[i]);
    if (close_fds && fds[i] >= 0 && fds[i] != (int)i) close(fds[i]);
  }
  free_strv(av);
  free_strv(ev);
  if (err != 0) {
    close(notify_fd);
    return throw_errno(env, "posix_spawn", path, err);
  }
  struct spawn_job *j = malloc(sizeof *j);
  pthread_t t;
  pthread_attr_t ta;
  int pe = ENOMEM;
  if (j) {
    j->pid = pid;
    j->notify_fd = notify_fd;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&ta, 64 * 1024);
    pe = pthread_create(&t, &ta, spawn_wait_main, j);
    pthread_attr_destroy(&ta);
  }
  if (pe != 0) {
    /* No thread to wait: block here rather than leave a zombie and a caller that never hears of the exit. */
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    (void)!send(notify_fd, &st, sizeof st, MSG_NOSIGNAL);
    close(notify_fd);
    free(j);
  }
  napi_value pidv;
  napi_create_int32(env, pid, &pidv);
  return pidv;
}

#define EXPORT(name, fn)                                         \
  do {                                                           \
    napi_value f;                                                \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f); \
    napi_set_named_property(env, exports, name, f);              \
  } while (0)

static napi_value init(napi_env env, napi_value exports) {
  EXPORT("mount", js_mount);
  EXPORT("umount2", js_umount2);
  EXPORT("mknod", js_mknod);
  EXPORT("lsetxattr", js_lsetxattr);
  EXPORT("lgetxattr", js_lgetxattr);
  EXPORT("llistxattr", js_llistxattr);
  EXPORT("attachRelay", js_attach_relay);
  EXPORT("netnsCreate", js_netns_create);
  EXPORT("nsSocket", js_ns_socket);
  EXPORT("netlinkTransact", js_netlink_transact);
  EXPORT("mountAsync", js_mount_async);
  EXPORT("umount2Async", js_umount2_async);
  EXPORT("netnsCreateAsync", js_netns_create_async);
  EXPORT("nsSocketAsync", js_ns_socket_async);
  EXPORT("netlinkTransactAsync", js_netlink_transact_async);
  EXPORT("attachRelayAsync", js_attach_relay_async);
  EXPORT("socketPair", js_socket_pair);
  EXPORT("peerCred", js_peer_cred);
  EXPORT("mallocTrim", js_malloc_trim);
  EXPORT("spawnWait", js_spawn_wait);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
