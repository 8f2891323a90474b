/* Transport to vidgan serve: see vidgan-client.h and docs/protocol.md.
 *
 * Threads: a worker thread connects, says HELLO and (re)configures; those steps may block and
 * never run on the caller's frame thread. Once the server is READY the frame thread owns the
 * socket and only ever uses non-blocking sends and receives, so a slow, hung or dead server
 * costs the caller a pass-through frame, never a wait. */
#define _GNU_SOURCE
#include "vidgan-client.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* macOS: SO_NOSIGPIPE is set on the socket instead */
#endif

#define NS_PER_S 1000000000LL
#define STALL_NS (5 * NS_PER_S)        /* a frame in flight this long: the server is hung */
#define RETRY_NS (1 * NS_PER_S)        /* between connection attempts */
#define SPAWN_EVERY_NS (15 * NS_PER_S) /* between autostart attempts */
#define HANDSHAKE_TIMEOUT_S 5
#define CONFIGURE_TIMEOUT_S 120 /* a first configure loads a model (and may compile kernels) */

enum vg_state {
	VG_DISCONNECTED, /* worker: connect + HELLO */
	VG_CONNECTED,    /* worker: CONFIGURE when a frame layout is known */
	VG_CONFIGURING,  /* worker owns the socket, waiting for READY */
	VG_READY,        /* frame thread owns the socket: FRAME / DONE */
};

enum vg_slot_state { VG_SLOT_FREE, VG_SLOT_IN_FLIGHT, VG_SLOT_RESULT };

struct vg_layout {
	enum vg_format format;
	uint32_t width, height;
	bool full_range;
	int matrix;
};

struct vg_client {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t worker;
	bool stop;

	struct vg_settings settings;
	bool settings_dirty;
	bool reconnect;
	int fd;
	enum vg_state state;
	uint32_t seq;

	struct vg_layout wanted;     /* the layout of the newest frame */
	struct vg_layout configured; /* the layout the server has mapped */
	bool need_configure;
	size_t frame_bytes;
	uint8_t *shm;
	size_t shm_size;

	enum vg_slot_state slots[VG_SLOTS];
	int current;     /* slot whose output is the newest result, -1: none */
	int in_flight;   /* slots sent and not answered */
	int64_t sent_ns; /* when the oldest frame in flight was sent */
	int64_t entered_ns[VG_SLOTS]; /* when each slot's frame entered vg_client_process */
	bool shown[VG_SLOTS];         /* each slot's result has been returned at least once */

	uint8_t rx[VG_HEADER_SIZE + VG_MAX_PAYLOAD];
	size_t rx_len;

	char status[VG_STATUS_MAX];
	char styles[1024];
	char *schema; /* the server's option schema (JSON), VG_MAX_PAYLOAD + 1 bytes */
	unsigned schema_generation;
	int64_t last_spawn_ns;
	struct vg_stats stats;
};

/* ---------------------------------------------------------------- small helpers */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void set_status(struct vg_client *c, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(c->status, sizeof(c->status), fmt, args);
	va_end(args);
}

static void copy_string(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

const char *vg_format_name(enum vg_format format)
{
	switch (format) {
	case VG_FORMAT_NV12: return "nv12";
	case VG_FORMAT_I420: return "i420";
	case VG_FORMAT_YUY2: return "yuy2";
	case VG_FORMAT_UYVY: return "uyvy";
	case VG_FORMAT_BGRA: return "bgra";
	case VG_FORMAT_RGBA: return "rgba";
	default: return "none";
	}
}

size_t vg_frame_bytes(enum vg_format format, uint32_t width, uint32_t height)
{
	size_t pixels = (size_t)width * height;
	switch (format) {
	case VG_FORMAT_NV12:
	case VG_FORMAT_I420: return pixels * 3 / 2;
	case VG_FORMAT_YUY2:
	case VG_FORMAT_UYVY: return pixels * 2;
	case VG_FORMAT_BGRA:
	case VG_FORMAT_RGBA: return pixels * 4;
	default: return 0;
	}
}

/* Planes of a format as (bytes per row, rows) for a width x height frame. */
static int plane_shapes(enum vg_format format, uint32_t w, uint32_t h, size_t row[3], size_t rows[3])
{
	switch (format) {
	case VG_FORMAT_NV12:
		row[0] = w, rows[0] = h, row[1] = w, rows[1] = h / 2;
		return 2;
	case VG_FORMAT_I420:
		row[0] = w, rows[0] = h, row[1] = row[2] = w / 2, rows[1] = rows[2] = h / 2;
		return 3;
	case VG_FORMAT_YUY2:
	case VG_FORMAT_UYVY:
		row[0] = (size_t)w * 2, rows[0] = h;
		return 1;
	case VG_FORMAT_BGRA:
	case VG_FORMAT_RGBA:
		row[0] = (size_t)w * 4, rows[0] = h;
		return 1;
	default: return 0;
	}
}

void vg_copy_to_slot(const struct vg_frame *frame, uint8_t *slot)
{
	size_t row[3], rows[3];
	int planes = plane_shapes(frame->format, frame->width, frame->height, row, rows);
	for (int p = 0; p < planes; p++) {
		if (frame->linesize[p] == row[p]) {
			memcpy(slot, frame->data[p], row[p] * rows[p]);
			slot += row[p] * rows[p];
			continue;
		}
		for (size_t y = 0; y < rows[p]; y++, slot += row[p])
			memcpy(slot, frame->data[p] + y * frame->linesize[p], row[p]);
	}
}

void vg_copy_from_slot(const uint8_t *slot, struct vg_frame *frame)
{
	size_t row[3], rows[3];
	int planes = plane_shapes(frame->format, frame->width, frame->height, row, rows);
	for (int p = 0; p < planes; p++) {
		if (frame->linesize[p] == row[p]) {
			memcpy(frame->data[p], slot, row[p] * rows[p]);
			slot += row[p] * rows[p];
			continue;
		}
		for (size_t y = 0; y < rows[p]; y++, slot += row[p])
			memcpy(frame->data[p] + y * frame->linesize[p], slot, row[p]);
	}
}

void vg_settings_defaults(struct vg_settings *s)
{
	memset(s, 0, sizeof(*s));
	copy_string(s->serve_command, sizeof(s->serve_command), "vidgan serve");
	s->autostart = true;
}

bool vg_settings_add_option(struct vg_settings *s, const char *name, const char *value)
{
	if (!name[0] || strpbrk(name, "=\n\r") || strpbrk(value, "\n\r"))
		return false;
	size_t used = strlen(s->options);
	int n = snprintf(s->options + used, sizeof(s->options) - used, "%s=%s\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(s->options) - used) {
		s->options[used] = '\0';
		return false;
	}
	return true;
}

void vg_default_socket_path(char *out, size_t size)
{
	const char *explicit_path = getenv("VIDGAN_SERVE_SOCKET");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	const char *tmp = getenv("TMPDIR");
	if (explicit_path && *explicit_path)
		snprintf(out, size, "%s", explicit_path);
	else if (runtime && *runtime)
		snprintf(out, size, "%s/vidgan/serve.sock", runtime);
	else
		snprintf(out, size, "%s/vidgan-%u/serve.sock", tmp && *tmp ? tmp : "/tmp", (unsigned)getuid());
}

static void socket_path_of(const struct vg_settings *s, char *out, size_t size)
{
	if (s->socket_path[0])
		snprintf(out, size, "%s", s->socket_path);
	else
		vg_default_socket_path(out, size);
}

/* ---------------------------------------------------------------- messages */

static bool send_all(int fd, const void *data, size_t size)
{
	const uint8_t *p = data;
	while (size > 0) {
		ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n, size -= (size_t)n;
	}
	return true;
}

static void fill_header(struct vg_header *h, uint16_t type, uint32_t length, uint32_t seq)
{
	memcpy(h->magic, VG_MAGIC, 4);
	h->version = VG_PROTOCOL_VERSION;
	h->type = type;
	h->length = length;
	h->seq = seq;
}

static bool send_message(int fd, uint16_t type, const void *payload, uint32_t length, uint32_t seq)
{
	uint8_t buffer[VG_HEADER_SIZE + 4096];
	if (length > sizeof(buffer) - VG_HEADER_SIZE)
		return false;
	struct vg_header header;
	fill_header(&header, type, length, seq);
	memcpy(buffer, &header, VG_HEADER_SIZE);
	if (length)
		memcpy(buffer + VG_HEADER_SIZE, payload, length);
	return send_all(fd, buffer, VG_HEADER_SIZE + length);
}

static bool recv_exact(int fd, void *data, size_t size)
{
	uint8_t *p = data;
	while (size > 0) {
		ssize_t n = recv(fd, p, size, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n, size -= (size_t)n;
	}
	return true;
}

static bool header_ok(const struct vg_header *h)
{
	return memcmp(h->magic, VG_MAGIC, 4) == 0 && h->version == VG_PROTOCOL_VERSION &&
	       h->length <= VG_MAX_PAYLOAD;
}

/* Blocking read of one message (the socket's receive timeout bounds it); payload is NUL-terminated. */
static bool read_message(int fd, struct vg_header *header, char *payload, size_t capacity)
{
	if (!recv_exact(fd, header, VG_HEADER_SIZE) || !header_ok(header) || header->length >= capacity)
		return false;
	if (header->length && !recv_exact(fd, payload, header->length))
		return false;
	payload[header->length] = '\0';
	return true;
}

/* The value of "key=" in key=value lines, copied into out. */
static bool text_field(const char *text, const char *key, char *out, size_t size)
{
	size_t key_len = strlen(key);
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > key_len && strncmp(line, key, key_len) == 0 && line[key_len] == '=') {
			size_t value_len = len - key_len - 1;
			if (value_len >= size)
				value_len = size - 1;
			memcpy(out, line + key_len + 1, value_len);
			out[value_len] = '\0';
			return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

static void set_timeout(int fd, int seconds)
{
	struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* ---------------------------------------------------------------- worker steps (may block) */

/* Connect and say HELLO; the WELCOME's styles and option schema are copied out (schema_size is
 * at least VG_MAX_PAYLOAD + 1: the schema may fill a whole message). */
static int connect_and_hello(const char *path, char *styles, size_t styles_size, char *schema, size_t schema_size,
			     char *error, size_t error_size)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		snprintf(error, error_size, "socket path is too long: %s", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(error, error_size, "socket(): %s", strerror(errno));
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
#ifdef SO_NOSIGPIPE
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		snprintf(error, error_size, "vidgan serve is not running at %s (%s)", path, strerror(errno));
		close(fd);
		return -1;
	}
	set_timeout(fd, HANDSHAKE_TIMEOUT_S);
	const char hello[] = "client=obs-vidgan\n";
	struct vg_header header;
	char *payload = malloc(VG_MAX_PAYLOAD + 1);
	if (!payload || !send_message(fd, VG_MSG_HELLO, hello, sizeof(hello) - 1, 1) ||
	    !read_message(fd, &header, payload, VG_MAX_PAYLOAD + 1) || header.type != VG_MSG_WELCOME) {
		snprintf(error, error_size, "no WELCOME from %s: not a vidgan serve of protocol %d?", path,
			 VG_PROTOCOL_VERSION);
		free(payload);
		close(fd);
		return -1;
	}
	if (!text_field(payload, "styles", styles, styles_size))
		styles[0] = '\0';
	if (!text_field(payload, VG_WELCOME_OPTIONS, schema, schema_size))
		schema[0] = '\0'; /* a server from before option schemas: the caller keeps its own list */
	free(payload);
	return fd;
}

/* mkdir -p with mode 0700 for the levels it creates (the server checks the socket folder is private). */
static void make_private_dirs(const char *folder)
{
	char path[600];
	snprintf(path, sizeof(path), "%s", folder);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	mkdir(path, 0700);
}

static void spawn_server(const char *command, const char *socket_path)
{
	/* Everything the child needs is prepared before fork: only async-signal-safe calls after it. */
	char shell_command[1400], log_path[600], folder[600];
	if (strchr(socket_path, '\'') || strchr(command, '\n'))
		return;
	snprintf(folder, sizeof(folder), "%s", socket_path);
	char *slash = strrchr(folder, '/');
	if (slash)
		*slash = '\0';
	snprintf(log_path, sizeof(log_path), "%s/serve.log", folder);
	snprintf(shell_command, sizeof(shell_command), "exec %s --socket '%s'", command, socket_path);
	make_private_dirs(folder);
	long max_fd = sysconf(_SC_OPEN_MAX);
	if (max_fd < 0 || max_fd > 65536)
		max_fd = 65536;
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0); /* the grandchild is adopted by init: no zombie left in OBS */
		int null_fd = open("/dev/null", O_RDWR);
		int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (log_fd < 0)
			log_fd = null_fd;
		dup2(null_fd, 0);
		dup2(log_fd, 1);
		dup2(log_fd, 2);
		/* nothing of the host program (OBS's sockets, files, pipes) leaks into the server */
		for (long fd = 3; fd < max_fd; fd++)
			close((int)fd);
		execl("/bin/sh", "sh", "-c", shell_command, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void unmap_shm(struct vg_client *c)
{
	if (c->shm) {
		munmap(c->shm, c->shm_size);
		c->shm = NULL;
		c->shm_size = 0;
	}
}

/* The frame thread may have read part of a message before handing the socket back: finish
 * reading that message so the next read starts on a header. */
static bool skip_partial(int fd, const uint8_t *rx, size_t rx_len)
{
	if (rx_len == 0)
		return true;
	uint8_t header_bytes[VG_HEADER_SIZE];
	size_t have = rx_len < VG_HEADER_SIZE ? rx_len : VG_HEADER_SIZE;
	memcpy(header_bytes, rx, have);
	if (have < VG_HEADER_SIZE && !recv_exact(fd, header_bytes + have, VG_HEADER_SIZE - have))
		return false;
	struct vg_header header;
	memcpy(&header, header_bytes, VG_HEADER_SIZE);
	if (!header_ok(&header))
		return false;
	size_t payload_have = rx_len > VG_HEADER_SIZE ? rx_len - VG_HEADER_SIZE : 0;
	uint8_t sink[4096];
	for (size_t left = header.length - payload_have; left > 0;) {
		size_t chunk = left < sizeof(sink) ? left : sizeof(sink);
		if (!recv_exact(fd, sink, chunk))
			return false;
		left -= chunk;
	}
	return true;
}

/* CONFIGURE's own keys, which an option line must not repeat (the last of a key wins). */
static bool is_configure_key(const char *line, size_t len)
{
	static const char *const keys[] = {"width", "height", "format", "shm", "slots", "range", "matrix", "chain", NULL};
	for (const char *const *key = keys; *key; key++)
		if (strlen(*key) == len && strncmp(line, *key, len) == 0)
			return true;
	return false;
}

/* The key=value lines of options that the server can read: a line without '=' (which would
 * break the protocol) or with one of CONFIGURE's own keys is left out, and the last line gets
 * its newline. */
static void option_lines(const char *options, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (const char *line = options; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		const char *eq = memchr(line, '=', len);
		if (eq && eq != line && !is_configure_key(line, (size_t)(eq - line)) && used + len + 2 <= size) {
			memcpy(out + used, line, len);
			used += len;
			out[used++] = '\n';
			out[used] = '\0';
		}
		line = end ? end + 1 : line + len;
	}
}

/* What status lines call the stylizer: its style option, else "stylize". */
static void stylizer_name(const struct vg_settings *s, char *out, size_t size)
{
	if (!text_field(s->options, "style", out, size) || !out[0])
		copy_string(out, size, "stylize");
}

/* Create the shared memory for a layout and CONFIGURE the server with it; on success the
 * mapping is returned and its name already unlinked (the server holds its own mapping). */
static uint8_t *configure(int fd, const struct vg_layout *layout, const struct vg_settings *s, uint32_t seq,
			  size_t *shm_size, char *error, size_t error_size, bool *fatal)
{
	static unsigned counter;
	char name[64];
	snprintf(name, sizeof(name), "/vidgan-obs-%d-%u", (int)getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	size_t frame_bytes = vg_frame_bytes(layout->format, layout->width, layout->height);
	size_t size = 2 * VG_SLOTS * frame_bytes;
	*fatal = true;
	int shm_fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (shm_fd < 0) {
		snprintf(error, error_size, "shm_open: %s", strerror(errno));
		return NULL;
	}
	uint8_t *map = NULL;
	if (ftruncate(shm_fd, (off_t)size) == 0)
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd, 0);
	close(shm_fd);
	if (!map || map == MAP_FAILED) {
		snprintf(error, error_size, "shared memory of %zu bytes: %s", size, strerror(errno));
		shm_unlink(name);
		return NULL;
	}
	char chain[sizeof(s->chain)];
	copy_string(chain, sizeof(chain), s->chain);
	for (char *p = chain; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	char options[sizeof(s->options)];
	option_lines(s->options, options, sizeof(options));
	char text[1024 + sizeof(options) + sizeof(chain)];
	int length = snprintf(text, sizeof(text),
			      "width=%u\nheight=%u\nformat=%s\nshm=%s\nslots=%d\nrange=%s\nmatrix=%d\n%s%s%s%s",
			      layout->width, layout->height, vg_format_name(layout->format), name, VG_SLOTS,
			      layout->full_range ? "full" : "limited", layout->matrix, options,
			      chain[0] ? "chain=" : "", chain, chain[0] ? "\n" : "");
	set_timeout(fd, CONFIGURE_TIMEOUT_S);
	bool ok = length > 0 && (size_t)length < sizeof(text) &&
		  send_message(fd, VG_MSG_CONFIGURE, text, (uint32_t)length, seq);
	struct vg_header header;
	char payload[4096];
	while (ok) {
		ok = read_message(fd, &header, payload, sizeof(payload));
		if (!ok) {
			snprintf(error, error_size, "no answer to CONFIGURE (server gone or busy for %d s)",
				 CONFIGURE_TIMEOUT_S);
			break;
		}
		if (header.type == VG_MSG_READY)
			break;
		if (header.type == VG_MSG_ERROR) {
			char message[1024] = "(no message)";
			text_field(payload, "message", message, sizeof(message));
			snprintf(error, error_size, "vidgan serve: %s", message);
			*fatal = false; /* a bad setting: the connection stays, the user can fix it */
			ok = false;
			break;
		}
		/* a DONE for a frame sent under the old configuration: nothing to do with it now */
	}
	shm_unlink(name);
	set_timeout(fd, HANDSHAKE_TIMEOUT_S);
	if (!ok) {
		munmap(map, size);
		return NULL;
	}
	*shm_size = size;
	return map;
}

static void close_connection(struct vg_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = VG_DISCONNECTED;
	c->in_flight = 0;
	c->current = -1;
	c->rx_len = 0;
	for (int k = 0; k < VG_SLOTS; k++)
		c->slots[k] = VG_SLOT_FREE;
}

static void wait_ns(struct vg_client *c, int64_t ns)
{
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	int64_t total = deadline.tv_nsec + ns;
	deadline.tv_sec += total / NS_PER_S;
	deadline.tv_nsec = total % NS_PER_S;
	pthread_cond_timedwait(&c->wake, &c->lock, &deadline);
}

static void *worker_main(void *data)
{
	struct vg_client *c = data;
	char *schema = malloc(VG_MAX_PAYLOAD + 1);
	pthread_mutex_lock(&c->lock);
	while (!c->stop && schema) {
		if (c->state == VG_DISCONNECTED) {
			char path[512], styles[1024], error[VG_STATUS_MAX] = "";
			socket_path_of(&c->settings, path, sizeof(path));
			pthread_mutex_unlock(&c->lock);
			int fd = connect_and_hello(path, styles, sizeof(styles), schema, VG_MAX_PAYLOAD + 1, error,
						   sizeof(error));
			pthread_mutex_lock(&c->lock);
			if (c->stop) {
				if (fd >= 0)
					close(fd);
				break;
			}
			if (fd < 0) {
				int64_t now = now_ns();
				if (c->settings.autostart && c->settings.serve_command[0] &&
				    now - c->last_spawn_ns > SPAWN_EVERY_NS) {
					c->last_spawn_ns = now;
					char command[512];
					copy_string(command, sizeof(command), c->settings.serve_command);
					pthread_mutex_unlock(&c->lock);
					spawn_server(command, path);
					pthread_mutex_lock(&c->lock);
					set_status(c, "starting vidgan serve (%s); frames pass through until it answers",
						   command);
				} else {
					set_status(c, "%s; frames pass through", error);
				}
				wait_ns(c, RETRY_NS);
				continue;
			}
			c->fd = fd;
			c->state = VG_CONNECTED;
			c->need_configure = true;
			copy_string(c->styles, sizeof(c->styles), styles);
			if (strcmp(c->schema, schema) != 0) {
				copy_string(c->schema, VG_MAX_PAYLOAD + 1, schema);
				c->schema_generation++;
			}
			c->stats.reconnects++;
			set_status(c, "connected to %s; waiting for a frame", path);
			continue;
		}
		if (c->state == VG_CONNECTED && c->need_configure && c->wanted.format != VG_FORMAT_NONE) {
			struct vg_layout layout = c->wanted;
			struct vg_settings settings = c->settings;
			int fd = c->fd;
			uint32_t seq = ++c->seq;
			uint8_t partial[VG_HEADER_SIZE + VG_MAX_PAYLOAD];
			size_t partial_len = c->rx_len;
			memcpy(partial, c->rx, partial_len);
			c->rx_len = 0;
			c->need_configure = false;
			c->state = VG_CONFIGURING;
			char stylizer[64];
			stylizer_name(&settings, stylizer, sizeof(stylizer));
			set_status(c, "loading %s for %ux%u %s", settings.chain[0] ? settings.chain : stylizer,
				   layout.width, layout.height, vg_format_name(layout.format));
			pthread_mutex_unlock(&c->lock);
			char error[VG_STATUS_MAX] = "";
			size_t shm_size = 0;
			bool fatal = false;
			uint8_t *map = NULL;
			if (skip_partial(fd, partial, partial_len))
				map = configure(fd, &layout, &settings, seq, &shm_size, error, sizeof(error), &fatal);
			else
				snprintf(error, sizeof(error), "lost track of the server's replies"), fatal = true;
			pthread_mutex_lock(&c->lock);
			if (!map) {
				set_status(c, "%s; frames pass through", error);
				if (fatal)
					close_connection(c);
				else
					c->state = VG_CONNECTED; /* waits for new settings */
				continue;
			}
			unmap_shm(c);
			c->shm = map;
			c->shm_size = shm_size;
			c->configured = layout;
			c->frame_bytes = vg_frame_bytes(layout.format, layout.width, layout.height);
			for (int k = 0; k < VG_SLOTS; k++)
				c->slots[k] = VG_SLOT_FREE;
			c->current = -1;
			c->in_flight = 0;
			c->rx_len = 0;
			c->state = VG_READY;
			set_status(c, "running %s on %ux%u %s", settings.chain[0] ? settings.chain : stylizer,
				   layout.width, layout.height, vg_format_name(layout.format));
			continue;
		}
		wait_ns(c, RETRY_NS);
	}
	if (!schema)
		set_status(c, "out of memory; frames pass through");
	pthread_mutex_unlock(&c->lock);
	free(schema);
	return NULL;
}

/* ---------------------------------------------------------------- frame thread (never blocks) */

/* Read what the server has sent so far; false when the connection had to be dropped. */
static bool drain_replies(struct vg_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->rx + c->rx_len, sizeof(c->rx) - c->rx_len, MSG_DONTWAIT);
		if (n == 0) {
			close_connection(c);
			set_status(c, "vidgan serve closed the connection; reconnecting, frames pass through");
			return false;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			set_status(c, "connection to vidgan serve failed (%s); reconnecting", strerror(errno));
			close_connection(c);
			return false;
		}
		c->rx_len += (size_t)n;
		while (c->rx_len >= VG_HEADER_SIZE) {
			struct vg_header header;
			memcpy(&header, c->rx, VG_HEADER_SIZE);
			if (!header_ok(&header)) {
				set_status(c, "malformed reply from vidgan serve; reconnecting");
				close_connection(c);
				return false;
			}
			size_t total = VG_HEADER_SIZE + header.length;
			if (c->rx_len < total)
				break;
			const uint8_t *payload = c->rx + VG_HEADER_SIZE;
			if (header.type == VG_MSG_DONE && header.length == sizeof(struct vg_done_payload)) {
				struct vg_done_payload done;
				memcpy(&done, payload, sizeof(done));
				if (done.slot < VG_SLOTS && c->slots[done.slot] == VG_SLOT_IN_FLIGHT) {
					c->in_flight--;
					if (done.status == VG_DONE_OK) {
						if (c->current >= 0 && c->current != (int)done.slot)
							c->slots[c->current] = VG_SLOT_FREE;
						c->current = (int)done.slot;
						c->slots[done.slot] = VG_SLOT_RESULT;
						c->shown[done.slot] = false;
					} else {
						c->slots[done.slot] = VG_SLOT_FREE;
						set_status(c, "vidgan serve could not process a frame (see its log)");
					}
				}
			} else if (header.type == VG_MSG_ERROR) {
				char text[1024], message[1000] = "(no message)";
				size_t len = header.length < sizeof(text) - 1 ? header.length : sizeof(text) - 1;
				memcpy(text, payload, len);
				text[len] = '\0';
				text_field(text, "message", message, sizeof(message));
				set_status(c, "vidgan serve: %s", message);
				close_connection(c);
				return false;
			}
			memmove(c->rx, c->rx + total, c->rx_len - total);
			c->rx_len -= total;
		}
	}
	return true;
}

static bool same_layout(const struct vg_layout *a, const struct vg_layout *b)
{
	return a->format == b->format && a->width == b->width && a->height == b->height &&
	       a->full_range == b->full_range && a->matrix == b->matrix;
}

static bool process_locked(struct vg_client *c, struct vg_frame *frame, int64_t entered_ns)
{
	if (c->reconnect) {
		c->reconnect = false;
		if (c->state == VG_READY || c->state == VG_CONNECTED) {
			close_connection(c);
			pthread_cond_signal(&c->wake);
		}
	}
	struct vg_layout layout = {frame->format, frame->width, frame->height, frame->full_range, frame->matrix};
	if (c->settings_dirty || !same_layout(&layout, &c->wanted)) {
		c->settings_dirty = false;
		c->wanted = layout;
		c->need_configure = true;
		if (c->state == VG_READY)
			c->state = VG_CONNECTED; /* the worker takes the socket back to reconfigure */
		pthread_cond_signal(&c->wake);
	}
	if (c->state != VG_READY || !drain_replies(c))
		return false;

	int64_t now = now_ns();
	if (c->in_flight == 0) {
		int slot = -1;
		for (int k = 0; k < VG_SLOTS && slot < 0; k++)
			if (c->slots[k] == VG_SLOT_FREE)
				slot = k;
		if (slot >= 0) {
			vg_copy_to_slot(frame, c->shm + (size_t)slot * c->frame_bytes);
			struct vg_header header;
			struct vg_frame_payload body = {.slot = (uint32_t)slot, .timestamp_ns = frame->timestamp_ns};
			uint8_t message[VG_HEADER_SIZE + sizeof(body)];
			fill_header(&header, VG_MSG_FRAME, sizeof(body), ++c->seq);
			memcpy(message, &header, VG_HEADER_SIZE);
			memcpy(message + VG_HEADER_SIZE, &body, sizeof(body));
			/* 32 bytes into an idle socket: it goes whole or not at all */
			ssize_t n = send(c->fd, message, sizeof(message), MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n == (ssize_t)sizeof(message)) {
				c->slots[slot] = VG_SLOT_IN_FLIGHT;
				c->entered_ns[slot] = entered_ns;
				c->in_flight = 1;
				c->sent_ns = now;
				c->stats.sent++;
			} else if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
				set_status(c, "sending to vidgan serve failed; reconnecting");
				close_connection(c);
				pthread_cond_signal(&c->wake);
				return false;
			}
		}
	} else if (now - c->sent_ns > STALL_NS) {
		set_status(c, "vidgan serve has not answered for %lld s; reconnecting, frames pass through",
			   (long long)(STALL_NS / NS_PER_S));
		close_connection(c);
		pthread_cond_signal(&c->wake);
		return false;
	}
	if (c->current < 0)
		return false;
	vg_copy_from_slot(c->shm + (size_t)(VG_SLOTS + c->current) * c->frame_bytes, frame);
	if (!c->shown[c->current]) {
		c->shown[c->current] = true;
		double latency_ms = (double)(now_ns() - c->entered_ns[c->current]) / 1e6;
		c->stats.latency_ms_total += latency_ms;
		c->stats.latency_count++;
		if (latency_ms > c->stats.latency_ms_max)
			c->stats.latency_ms_max = latency_ms;
	}
	return true;
}

bool vg_client_process(struct vg_client *c, struct vg_frame *frame)
{
	int64_t start = now_ns();
	bool processed = false;
	pthread_mutex_lock(&c->lock);
	c->stats.frames++;
	if (vg_frame_bytes(frame->format, frame->width, frame->height) == 0 || frame->width < 2 || frame->height < 2) {
		set_status(c, "this source's pixel format is not supported; frames pass through");
	} else if ((frame->format != VG_FORMAT_BGRA && frame->format != VG_FORMAT_RGBA) &&
		   ((frame->width | frame->height) & 1)) {
		set_status(c, "odd frame sizes of YUV sources are not supported; frames pass through");
	} else {
		processed = process_locked(c, frame, start);
	}
	if (processed)
		c->stats.stylized++;
	else
		c->stats.passthrough++;
	double ms = (double)(now_ns() - start) / 1e6;
	c->stats.call_ms_total += ms;
	if (ms > c->stats.call_ms_max)
		c->stats.call_ms_max = ms;
	pthread_mutex_unlock(&c->lock);
	return processed;
}

/* ---------------------------------------------------------------- lifetime and settings */

struct vg_client *vg_client_create(const struct vg_settings *settings)
{
	struct vg_client *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->schema = calloc(1, VG_MAX_PAYLOAD + 1);
	if (!c->schema) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_cond_init(&c->wake, &attr);
	pthread_condattr_destroy(&attr);
	c->settings = *settings;
	c->fd = -1;
	c->current = -1;
	c->last_spawn_ns = -SPAWN_EVERY_NS;
	set_status(c, "connecting to vidgan serve");
	if (pthread_create(&c->worker, NULL, worker_main, c) != 0) {
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->wake);
		free(c->schema);
		free(c);
		return NULL;
	}
	return c;
}

void vg_client_update(struct vg_client *c, const struct vg_settings *settings)
{
	pthread_mutex_lock(&c->lock);
	char old_path[512], new_path[512];
	socket_path_of(&c->settings, old_path, sizeof(old_path));
	socket_path_of(settings, new_path, sizeof(new_path));
	if (strcmp(old_path, new_path) != 0)
		c->reconnect = true;
	c->settings = *settings;
	c->settings_dirty = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

void vg_client_destroy(struct vg_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR); /* wakes a worker blocked on a read */
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->worker, NULL);
	if (c->fd >= 0) {
		send_message(c->fd, VG_MSG_BYE, NULL, 0, ++c->seq);
		close(c->fd);
	}
	unmap_shm(c);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->wake);
	free(c->schema);
	free(c);
}

void vg_client_status(struct vg_client *c, char *out, size_t size)
{
	pthread_mutex_lock(&c->lock);
	copy_string(out, size, c->status);
	pthread_mutex_unlock(&c->lock);
}

void vg_client_styles(struct vg_client *c, char *out, size_t size)
{
	pthread_mutex_lock(&c->lock);
	copy_string(out, size, c->styles);
	pthread_mutex_unlock(&c->lock);
}

unsigned vg_client_schema(struct vg_client *c, char *out, size_t size)
{
	pthread_mutex_lock(&c->lock);
	if (out)
		copy_string(out, size, c->schema);
	unsigned generation = c->schema_generation;
	pthread_mutex_unlock(&c->lock);
	return generation;
}

void vg_client_stats(struct vg_client *c, struct vg_stats *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->stats;
	pthread_mutex_unlock(&c->lock);
}

/* ---------------------------------------------------------------- JSON for libobs */

struct json_out {
	char *p;
	size_t left;
	bool ok;
};

static void put(struct json_out *o, const char *text, size_t len)
{
	if (!o->ok || len >= o->left) {
		o->ok = false;
		return;
	}
	memcpy(o->p, text, len);
	o->p += len, o->left -= len;
	*o->p = '\0';
}

bool vg_json_wrap_array_scalars(const char *json, char *out, size_t size)
{
	struct json_out o = {out, size, size > 0};
	char stack[64]; /* '{' or '[' of each open container */
	int depth = 0;
	if (size)
		out[0] = '\0';
	for (const char *p = json; *p && o.ok;) {
		const char *start = p;
		if (*p == '"') { /* a string, escapes included */
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p != '"')
				return false;
			p++;
		} else if (strchr("-0123456789tfn", *p)) { /* a number, true, false or null */
			while (*p && strchr("+-.0123456789eEtruefalsn", *p))
				p++;
		} else {
			if (*p == '{' || *p == '[') {
				if (depth == (int)sizeof(stack))
					return false;
				stack[depth++] = *p;
			} else if (*p == '}' || *p == ']') {
				if (depth == 0)
					return false;
				depth--;
			}
			put(&o, p, 1);
			p++;
			continue;
		}
		bool wrap = depth > 0 && stack[depth - 1] == '[';
		if (wrap)
			put(&o, "{\"value\":", 9);
		put(&o, start, (size_t)(p - start));
		if (wrap)
			put(&o, "}", 1);
	}
	return o.ok && depth == 0;
}
