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

static napi_value throw_errno(napi_env env, const char *syscall, const char *path, int e) {
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
  napi_throw(env, err);
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

/* attachRelay(socketPath) -> fd of a SOCK_STREAM socket relaying to the SOCK_SEQPACKET socket at socketPath */
static napi_value js_attach_relay(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[PATH_BUF];
  if (argc < 1 || !get_str(env, argv[0], path, sizeof path, NULL)) return throw_type(env, "attachRelay(path)");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) return throw_errno(env, "connect", path, ENAMETOOLONG);
  strcpy(addr.sun_path, path);
  int seq = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (seq < 0) return throw_errno(env, "socket", NULL, errno);
  if (connect(seq, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(seq);
    return throw_errno(env, "connect", path, e);
  }
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
    int e = errno;
    close(seq);
    return throw_errno(env, "socketpair", NULL, e);
  }
  struct relay *r = malloc(sizeof *r);
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
    return throw_errno(env, "pthread_create", NULL, pe);
  }
  napi_value out;
  napi_create_int32(env, sp[0], &out);
  return out;
}


/*
 * Network namespaces. Each job runs on a short-lived thread that joins or creates the namespace, so the
 * daemon's own threads never leave the host's network namespace. The caller waits for the thread: these
 * are a few syscalls each.
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
  uint32_t seq = ((struct nlmsghdr *)req)->nlmsg_seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t sent;
  do sent = sendto(fd, req, reqlen, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) return throw_errno(env, "sendto", NULL, errno);
  size_t cap = 65536, len = 0;
  char *out = malloc(cap);
  char *buf = malloc(65536);
  if (!out || !buf) {
    free(out);
    free(buf);
    return throw_errno(env, "netlink", NULL, ENOMEM);
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
    return throw_errno(env, "netlink", NULL, err);
  }
  napi_value result;
  void *dst;
  napi_create_buffer_copy(env, len, out, &dst, &result);
  free(out);
  return result;
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
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
