/* The transport behind the OBS filter: connects to vidgan serve, moves frames through shared
 * memory and hands back the newest finished result. No libobs in here, so the same code is
 * tested and benchmarked by small host programs (tools/). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vidgan-protocol.h"

#define VG_SLOTS 3
#define VG_STATUS_MAX 256
#define VG_OPTIONS_MAX 4096

struct vg_settings {
	char socket_path[512];   /* empty: $VIDGAN_SERVE_SOCKET, $XDG_RUNTIME_DIR/vidgan/serve.sock, /tmp/vidgan-UID/serve.sock */
	char serve_command[512]; /* what autostart runs, e.g. "vidgan serve"; "--socket PATH" is appended */
	bool autostart;
	/* The stylizer's live options as "name=value" lines, named as in the server's option schema
	 * (style=van_gogh, strength=0.5, ...); CONFIGURE carries them as they are. An option left out
	 * keeps the server's default. */
	char options[VG_OPTIONS_MAX];
	char chain[512]; /* a -vf chain to run instead of the stylizer (empty: stylize) */
};

/* One frame as the caller holds it; the client reads it (copy in) and may overwrite it (copy out). */
struct vg_frame {
	enum vg_format format;
	uint32_t width, height;
	uint8_t *data[4];
	uint32_t linesize[4];
	int64_t timestamp_ns;
	bool full_range;
	int matrix; /* 601 or 709 */
};

struct vg_client;

struct vg_stats {
	uint64_t frames;      /* frames offered */
	uint64_t sent;        /* frames handed to the server */
	uint64_t stylized;    /* frames returned with a server result */
	uint64_t passthrough; /* frames returned unchanged */
	uint64_t reconnects;
	double call_ms_total; /* time spent inside vg_client_process */
	double call_ms_max;
	double latency_ms_total; /* frame entering the filter -> its result first returned */
	double latency_ms_max;
	uint64_t latency_count;
};

void vg_settings_defaults(struct vg_settings *settings);
/* Append "name=value" to settings->options; false when it does not fit or would break the line format. */
bool vg_settings_add_option(struct vg_settings *settings, const char *name, const char *value);
void vg_default_socket_path(char *out, size_t size);

struct vg_client *vg_client_create(const struct vg_settings *settings);
void vg_client_destroy(struct vg_client *client);
/* New settings: the next frame reconfigures the server's pipeline (and reconnects if the socket changed). */
void vg_client_update(struct vg_client *client, const struct vg_settings *settings);
/* Per frame, on the caller's thread; never blocks on the server. Copies the frame into a free slot
 * and signals the server, then overwrites the frame with the newest finished result if there is one.
 * Returns true when the frame now holds processed pixels, false when it passed through unchanged. */
bool vg_client_process(struct vg_client *client, struct vg_frame *frame);
/* One line saying what the client is doing or why frames pass through. */
void vg_client_status(struct vg_client *client, char *out, size_t size);
/* The server's styles, comma separated (empty before the first connection). */
void vg_client_styles(struct vg_client *client, char *out, size_t size);
/* The server's option schema from WELCOME: a JSON array with one object per live option (name,
 * type, default, help, min, max, choices; docs/protocol.md). Copies it into out when out is not
 * NULL (empty before the first connection and from servers that do not send one) and returns a
 * number that changes whenever a different schema arrives, so callers can poll cheaply. */
unsigned vg_client_schema(struct vg_client *client, char *out, size_t size);
/* JSON text with every scalar inside an array wrapped as {"value": scalar}: libobs's JSON reader
 * keeps only objects in arrays, so a schema's "choices" survive obs_data_create_from_json this way.
 * False when the result does not fit in out or the text is not well-formed enough to rewrite. */
bool vg_json_wrap_array_scalars(const char *json, char *out, size_t size);
void vg_client_stats(struct vg_client *client, struct vg_stats *out);

size_t vg_frame_bytes(enum vg_format format, uint32_t width, uint32_t height);
/* Copy between a caller's frame (with line strides) and a tightly packed slot. */
void vg_copy_to_slot(const struct vg_frame *frame, uint8_t *slot);
void vg_copy_from_slot(const uint8_t *slot, struct vg_frame *frame);
const char *vg_format_name(enum vg_format format);
