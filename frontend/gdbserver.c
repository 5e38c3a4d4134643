#include "frontend/gdbserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frontend/gdbstub.h"
#include "frontend/stopsignal.h"

#define PREFIX "vmiemu: gdb: "

typedef struct server {
    int fd;
    gdbstub *stub;
    bool gone;              /* the connection closed or stalled */
    uint64_t stalled_since; /* ms when sending last made no progress; 0 = not stalled */
} server;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- The spec */

static bool is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

bool gdb_parse_spec(const char *spec, char *host, unsigned hostlen, unsigned *port, vm_error *err)
{
    const char *usage = "--gdb %s: expected tcp:HOST:PORT (e.g. tcp:127.0.0.1:1234)";
    if (strncmp(spec, "tcp:", 4) != 0)
        return vm_fail(err, VM_EINVAL, usage, spec);
    const char *rest = spec + 4, *p;
    char h[64] = "";
    if (rest[0] == '[') { /* [IPv6]:PORT */
        const char *close = strchr(rest, ']');
        if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= sizeof h)
            return vm_fail(err, VM_EINVAL, usage, spec);
        memcpy(h, rest + 1, (size_t)(close - rest - 1));
        h[close - rest - 1] = 0;
        p = close + 2;
    } else if ((p = strrchr(rest, ':')) != NULL) {
        if ((size_t)(p - rest) >= sizeof h)
            return vm_fail(err, VM_EINVAL, usage, spec);
        memcpy(h, rest, (size_t)(p - rest));
        h[p - rest] = 0;
        p++;
    } else {
        p = rest; /* tcp:PORT */
    }
    unsigned long v = 0;
    if (!*p || strlen(p) > 5)
        return vm_fail(err, VM_EINVAL, usage, spec);
    for (const char *q = p; *q; q++) {
        if (*q < '0' || *q > '9')
            return vm_fail(err, VM_EINVAL, usage, spec);
        v = v * 10 + (unsigned long)(*q - '0');
    }
    if (v > 65535)
        return vm_fail(err, VM_EINVAL, "--gdb %s: port %lu is out of range", spec, v);
    if (!h[0] || strcmp(h, "localhost") == 0)
        snprintf(h, sizeof h, "127.0.0.1");
    struct in6_addr a;
    if (inet_pton(AF_INET, h, &a) != 1 && inet_pton(AF_INET6, h, &a) != 1)
        return vm_fail(err, VM_EINVAL,
                       "--gdb %s: HOST must be a numeric address or localhost (no name lookups: what is "
                       "exposed must be spelt out)",
                       spec);
    if (strlen(h) >= hostlen)
        return vm_fail(err, VM_EINVAL, usage, spec);
    snprintf(host, hostlen, "%s", h);
    *port = (unsigned)v;
    return true;
}

static int listen_on(const char *spec, vm_error *err)
{
    char host[64], portstr[8];
    unsigned port;
    if (!gdb_parse_spec(spec, host, sizeof host, &port, err))
        return -1;
    snprintf(portstr, sizeof portstr, "%u", port);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(host, portstr, &hints, &ai);
    if (rc != 0) {
        vm_fail(err, VM_EINVAL, "--gdb %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1) != 0) {
        vm_fail(err, VM_EIO, "--gdb %s: cannot listen on %s port %u: %s", spec, host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                               : ((struct sockaddr_in *)&sa)->sin_port);
    bool v6 = strchr(host, ':') != NULL;
    fprintf(stderr, PREFIX "listening on %s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "", port);
    if (!is_loopback(host))
        fprintf(stderr, PREFIX "warning: %s is not a loopback address: whoever can connect controls the guest\n",
                host);
    return fd;
}

/* ---- Moving bytes */

/* Send what the stub has for the client. With `block`, wait until all of it is sent; without,
 * send what the socket takes now. Either way a client that takes nothing for
 * GDBSERVER_SEND_TIMEOUT_MS is gone. */
static void flush(server *sv, bool block)
{
    size_t n;
    const uint8_t *p;
    while (!sv->gone && (p = gdbstub_output(sv->stub, &n), n > 0)) {
        ssize_t k = send(sv->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) {
            gdbstub_consume(sv->stub, (size_t)k);
            sv->stalled_since = 0;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            sv->gone = true;
            break;
        }
        uint64_t t = now_ms();
        if (!sv->stalled_since)
            sv->stalled_since = t;
        uint64_t waited = t - sv->stalled_since;
        if (waited >= GDBSERVER_SEND_TIMEOUT_MS) {
            fprintf(stderr, PREFIX "the client stopped reading: closing the connection\n");
            sv->gone = true;
            break;
        }
        if (!block)
            break;
        struct pollfd pf = {.fd = sv->fd, .events = POLLOUT};
        poll(&pf, 1, (int)(GDBSERVER_SEND_TIMEOUT_MS - waited));
    }
}

/* Read what has arrived (waiting up to timeout_ms, -1 = until something does) and feed it. */
static void receive(server *sv, int timeout_ms)
{
    struct pollfd pf = {.fd = sv->fd, .events = POLLIN};
    int r = poll(&pf, 1, timeout_ms);
    if (r < 0 && errno == EINTR)
        return;
    if (r <= 0)
        return;
    uint8_t buf[4096];
    ssize_t k = recv(sv->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (k > 0)
        gdbstub_feed(sv->stub, buf, (size_t)k);
    else if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        sv->gone = true;
}

/* The stub's poll hook while the guest runs. */
static void pump(void *ctx)
{
    server *sv = ctx;
    flush(sv, false);
    if (!sv->gone)
        receive(sv, 0);
    if (sv->gone || stopsig_raised()) /* SIGINT ends the session as a hang-up would */
        gdbstub_hangup(sv->stub);
}

/* While the guest runs waiting for a client: the machine's own host hook still runs, and a
 * client knocking on the listening socket pauses the run. */
typedef struct knock_watch {
    int lfd;
    machine_host_fn outer_fn;
    void *outer_ctx;
} knock_watch;

static bool knock(machine *m, void *ctx, bool at_stop)
{
    knock_watch *w = ctx;
    bool pause = w->outer_fn && w->outer_fn(m, w->outer_ctx, at_stop);
    struct pollfd pf = {.fd = w->lfd, .events = POLLIN};
    return pause || poll(&pf, 1, 0) != 0 || stopsig_raised();
}

/* Wait for a client: blocking with the guest stopped, or running the guest until one knocks. */
static int accept_client(dbg *d, int lfd, bool run_guest)
{
    machine *m = d->m;
    for (;;) {
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        int r = poll(&pf, 1, run_guest ? 0 : -1);
        if (r > 0) {
            struct sockaddr_storage sa;
            socklen_t len = sizeof sa;
            int fd = accept(lfd, (struct sockaddr *)&sa, &len);
            if (fd >= 0)
                return fd;
        }
        if ((r < 0 && errno != EINTR) || stopsig_raised())
            return -1;
        if (run_guest) {
            knock_watch w = {lfd, m->host_fn, m->host_ctx};
            uint64_t every = m->host_every;
            machine_set_host_hook(m, every, knock, &w);
            machine_clear_interrupt(m);
            machine_run(m);
            machine_set_host_hook(m, every, w.outer_fn, w.outer_ctx);
            if (m->end != END_RUNNING)
                return -1;
        }
    }
}

static const char *ending(gdbstub_state st)
{
    switch (st) {
    case GDBSTUB_DETACHED: return "the client detached";
    case GDBSTUB_KILLED: return "the client killed the session";
    case GDBSTUB_HUNGUP:
    case GDBSTUB_ACTIVE: return "the connection closed";
    }
    return "?";
}

/* One client's session on fd, until it detaches, kills or goes away, the guest ends, or a stop
 * signal arrives. */
static gdb_outcome session(dbg *d, const symtab *syms, int fd, vm_error *err)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    fprintf(stderr, PREFIX "client connected (icount %llu)\n", (unsigned long long)dbg_icount(d));

    server sv = {.fd = fd};
    sv.stub = gdbstub_new(d);
    if (sv.stub)
        gdbstub_set_symbols(sv.stub, syms);
    if (!sv.stub) {
        close(fd);
        vm_fail(err, VM_ENOMEM, "out of memory");
        return GDB_FAILED;
    }
    gdbstub_set_poll(sv.stub, pump, &sv);
    for (;;) {
        flush(&sv, true);
        if (sv.gone || gdbstub_get_state(sv.stub) != GDBSTUB_ACTIVE || stopsig_raised())
            break;
        receive(&sv, -1); /* the guest is stopped: waiting for the user is right (SIGINT wakes it) */
    }
    if (sv.gone)
        gdbstub_hangup(sv.stub);
    gdbstub_state st = gdbstub_get_state(sv.stub);
    bool interrupted = stopsig_raised();
    fprintf(stderr, PREFIX "%s%s (icount %llu)\n", interrupted ? stopsig_name() : ending(st),
            interrupted ? ": closing the session" : "", (unsigned long long)dbg_icount(d));
    gdbstub_free(sv.stub);
    close(fd);
    if (d->m->end != END_RUNNING)
        return GDB_GUEST_ENDED;
    return interrupted ? GDB_INTERRUPTED : st == GDBSTUB_KILLED ? GDB_KILLED : GDB_DETACHED;
}

/* Sessions one after another: after a detach or a dropped connection the guest runs on, as
 * with QEMU, and the port keeps listening, so a client can come back (a dropped connection
 * does not end the run). The run ends with the guest, a kill, or a stop signal. */
static gdb_outcome serve(dbg *d, const symtab *syms, const char *spec, bool run_guest, vm_error *err)
{
    int lfd = listen_on(spec, err);
    if (lfd < 0)
        return GDB_FAILED;
    for (;;) {
        int fd = accept_client(d, lfd, run_guest);
        if (fd < 0) {
            close(lfd);
            if (d->m->end != END_RUNNING) /* the guest ended while nobody was connected */
                return GDB_GUEST_ENDED;
            if (stopsig_raised())
                return GDB_INTERRUPTED;
            vm_fail(err, VM_EIO, "--gdb %s: accept failed: %s", spec, strerror(errno));
            return GDB_FAILED;
        }
        gdb_outcome out = session(d, syms, fd, err);
        if (out != GDB_DETACHED) {
            close(lfd);
            return out;
        }
        fprintf(stderr, PREFIX "the guest runs on; waiting for a new client\n");
        run_guest = true;
    }
}

gdb_outcome gdb_serve(dbg *d, const symtab *syms, const char *spec, vm_error *err)
{
    return serve(d, syms, spec, false, err);
}

gdb_outcome gdb_serve_running(dbg *d, const symtab *syms, const char *spec, vm_error *err)
{
    return serve(d, syms, spec, true, err);
}
