/*
 * The floor: the fastest client we can write that reads the same Graph pages as tenantsync's full
 * sync and discards them. It measures the emulator's serving rate for exactly that job, so
 * "tenantsync / floor" says how much of a sync is tenantsync's own work.
 *
 * Choices: C, blocking sockets with HTTP/1.1 keep-alive, one connection per thread, no JSON parser
 * (it only looks for the "@odata.nextLink"/"@odata.deltaLink" strings and, on group pages, the "id"
 * values it needs to list members). The same requests as tenantsync: both delta positions
 * ($deltatoken=latest), /users and /groups with the same $select and $top=999, then each group's
 * /members?$select=id&$top=999 with the same concurrency (8 listings at once by default).
 *
 *   floor URL TENANT [CONCURRENCY]    prints one JSON line: seconds, users, groups, memberships, pages, bytes
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char host[256];
static int port;
static char base[512];
static char token[4096];

typedef struct {
    int fd;
    char *buf; /* response body */
    size_t cap, len;
    char in[1 << 16];
    size_t in_start, in_end;
} conn_t;

static void die(const char *what) {
    fprintf(stderr, "floor: %s\n", what);
    exit(1);
}

static void conn_open(conn_t *c) {
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect failed");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->in_start = c->in_end = 0;
}

static int fill(conn_t *c) {
    if (c->in_start == c->in_end) c->in_start = c->in_end = 0;
    if (c->in_end == sizeof c->in) {
        memmove(c->in, c->in + c->in_start, c->in_end - c->in_start);
        c->in_end -= c->in_start;
        c->in_start = 0;
    }
    ssize_t n = read(c->fd, c->in + c->in_end, sizeof c->in - c->in_end);
    if (n <= 0) die("connection closed");
    c->in_end += (size_t)n;
    return (int)n;
}

/* Reads one line (without CRLF) into out. */
static void read_line(conn_t *c, char *out, size_t max) {
    for (;;) {
        char *nl = memchr(c->in + c->in_start, '\n', c->in_end - c->in_start);
        if (nl) {
            size_t n = (size_t)(nl - (c->in + c->in_start));
            size_t copy = n < max - 1 ? n : max - 1;
            memcpy(out, c->in + c->in_start, copy);
            out[copy] = 0;
            if (copy && out[copy - 1] == '\r') out[copy - 1] = 0;
            c->in_start += n + 1;
            return;
        }
        fill(c);
    }
}

static void append(conn_t *c, size_t n) {
    while (n > 0) {
        if (c->in_start == c->in_end) fill(c);
        size_t avail = c->in_end - c->in_start;
        size_t take = avail < n ? avail : n;
        if (c->len + take + 1 > c->cap) {
            c->cap = (c->len + take + 1) * 2;
            c->buf = realloc(c->buf, c->cap);
        }
        memcpy(c->buf + c->len, c->in + c->in_start, take);
        c->len += take;
        c->in_start += take;
        n -= take;
    }
}

/* Sends a request and reads the whole response body into c->buf; returns the status. */
static int request(conn_t *c, const char *method, const char *path, const char *body, const char *content_type) {
    char head[8192];
    int n;
    if (body)
        n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, host, port, content_type, strlen(body), body);
    else
        n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\nAccept: application/json\r\n\r\n",
                     method, path, host, port, token);
    for (int sent = 0; sent < n;) {
        ssize_t w = write(c->fd, head + sent, (size_t)(n - sent));
        if (w <= 0) die("write failed");
        sent += (int)w;
    }
    char line[8192];
    read_line(c, line, sizeof line);
    int status = atoi(line + 9);
    long content_length = -1;
    int chunked = 0;
    for (;;) {
        read_line(c, line, sizeof line);
        if (!line[0]) break;
        if (!strncasecmp(line, "content-length:", 15)) content_length = atol(line + 15);
        if (!strncasecmp(line, "transfer-encoding:", 18) && strcasestr(line, "chunked")) chunked = 1;
    }
    c->len = 0;
    if (chunked) {
        for (;;) {
            read_line(c, line, sizeof line);
            size_t size = strtoul(line, NULL, 16);
            if (size == 0) {
                read_line(c, line, sizeof line);
                break;
            }
            append(c, size);
            read_line(c, line, sizeof line);
        }
    } else if (content_length > 0) {
        append(c, (size_t)content_length);
    }
    if (!c->buf) c->buf = malloc(c->cap = 1);
    c->buf[c->len] = 0;
    return status;
}

/* Copies the string value after `key` ("@odata.nextLink":") into out as a path, without the base URL. */
static int find_link(const char *body, const char *key, char *out, size_t max) {
    const char *p = strstr(body, key);
    if (!p) return 0;
    p += strlen(key);
    size_t n = 0;
    while (*p && *p != '"' && n < max - 1) {
        if (p[0] == '\\' && p[1] == '/') p++;
        out[n++] = *p++;
    }
    out[n] = 0;
    size_t b = strlen(base);
    if (!strncmp(out, base, b)) memmove(out, out + b, n - b + 1);
    return 1;
}

static long count(const char *body, const char *needle) {
    long n = 0;
    for (const char *p = body; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static atomic_long pages, bytes;

/* GETs a collection page by page; returns the number of items ("id" keys). */
static long read_all(conn_t *c, const char *first, char *delta_out) {
    char path[4096];
    snprintf(path, sizeof path, "%s", first);
    long items = 0;
    for (;;) {
        int status = request(c, "GET", path, NULL, NULL);
        if (status != 200) {
            fprintf(stderr, "floor: HTTP %d on %s\n", status, path);
            exit(1);
        }
        atomic_fetch_add(&pages, 1);
        atomic_fetch_add(&bytes, (long)c->len);
        items += count(c->buf, "\"id\":\"");
        if (delta_out && find_link(c->buf, "\"@odata.deltaLink\":\"", delta_out, 4096)) return items;
        if (!find_link(c->buf, "\"@odata.nextLink\":\"", path, sizeof path)) return items;
    }
}

static char **group_ids;
static long group_count;
static atomic_long next_group, memberships;

static void *member_worker(void *unused) {
    (void)unused;
    conn_t c = {0};
    conn_open(&c);
    for (;;) {
        long i = atomic_fetch_add(&next_group, 1);
        if (i >= group_count) break;
        char path[512];
        snprintf(path, sizeof path, "/v1.0/groups/%s/members?$select=id&$top=999", group_ids[i]);
        atomic_fetch_add(&memberships, read_all(&c, path, NULL));
    }
    close(c.fd);
    free(c.buf);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) die("usage: floor URL TENANT [CONCURRENCY]");
    snprintf(base, sizeof base, "%s", argv[1]);
    if (sscanf(argv[1], "http://%255[^:]:%d", host, &port) != 2) die("URL must be http://HOST:PORT");
    const char *tenant = argv[2];
    int concurrency = argc > 3 ? atoi(argv[3]) : 8;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    conn_t c = {0};
    conn_open(&c);
    char path[1024], delta[4096];
    snprintf(path, sizeof path, "/%s/oauth2/v2.0/token", tenant);
    if (request(&c, "POST", path,
                "grant_type=client_credentials&client_id=5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b&client_secret=emulator-client-secret"
                "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
                "application/x-www-form-urlencoded") != 200)
        die("token request failed");
    if (!find_link(c.buf, "\"access_token\":\"", token, sizeof token)) die("no access_token");

    read_all(&c, "/v1.0/users/delta?$select=id,userPrincipalName,displayName,mail,accountEnabled&$deltatoken=latest", delta);
    read_all(&c, "/v1.0/groups/delta?$select=displayName,mail,members&$deltatoken=latest", delta);
    long users = read_all(&c, "/v1.0/users?$select=id,userPrincipalName,displayName,mail,accountEnabled&$top=999", NULL);

    /* Groups: keep their ids for the member listings. */
    long capacity = 1024;
    group_ids = malloc(sizeof(char *) * (size_t)capacity);
    snprintf(path, sizeof path, "/v1.0/groups?$select=id,displayName,mail&$top=999");
    for (;;) {
        if (request(&c, "GET", path, NULL, NULL) != 200) die("groups page failed");
        atomic_fetch_add(&pages, 1);
        atomic_fetch_add(&bytes, (long)c.len);
        for (const char *p = c.buf; (p = strstr(p, "\"id\":\""));) {
            p += 6;
            const char *end = strchr(p, '"');
            if (group_count == capacity) group_ids = realloc(group_ids, sizeof(char *) * (size_t)(capacity *= 2));
            group_ids[group_count++] = strndup(p, (size_t)(end - p));
            p = end;
        }
        if (!find_link(c.buf, "\"@odata.nextLink\":\"", path, sizeof path)) break;
    }

    pthread_t threads[64];
    if (concurrency > 64) concurrency = 64;
    for (int i = 0; i < concurrency; i++) pthread_create(&threads[i], NULL, member_worker, NULL);
    for (int i = 0; i < concurrency; i++) pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    long hwm = -1;
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    while (status && fgets(line, sizeof line, status))
        if (!strncmp(line, "VmHWM:", 6)) hwm = atol(line + 6);
    if (status) fclose(status);
    printf("{\"mode\": \"full\", \"seconds\": %.4f, \"users\": %ld, \"groups\": %ld, \"memberships\": %ld, \"pages\": %ld, \"bytes\": %ld, "
           "\"peakRSSKiB\": %ld}\n",
           seconds, users, group_count, (long)memberships, (long)pages, (long)bytes, hwm);
    return 0;
}
