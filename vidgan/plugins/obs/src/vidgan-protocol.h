/* The vidgan serve wire protocol, version 1: the C twin of vidgan/serve/protocol.py.
 * docs/protocol.md describes it in full; change the two together. */
#pragma once

#include <stdint.h>

#define VG_MAGIC "VGSV"
#define VG_PROTOCOL_VERSION 1
#define VG_HEADER_SIZE 16
#define VG_MAX_PAYLOAD (64 * 1024)
#define VG_MAX_SLOTS 8
/* WELCOME key holding the server's option schema: a JSON array, one object per live option of
 * the stylizer ({"name", "type": float|int|bool|str|choice|list, "default", "help", "min",
 * "max", "choices"}). CONFIGURE sets those options by name ("strength=0.5"); a server without
 * this key (an older one) knows style, strength, temporal and scale. */
#define VG_WELCOME_OPTIONS "options"

enum vg_message_type {
	VG_MSG_HELLO = 1,
	VG_MSG_WELCOME = 2,
	VG_MSG_CONFIGURE = 3,
	VG_MSG_READY = 4,
	VG_MSG_FRAME = 5,
	VG_MSG_DONE = 6,
	VG_MSG_ERROR = 7,
	VG_MSG_BYE = 8,
};

enum vg_done_status {
	VG_DONE_OK = 0,
	VG_DONE_FAILED = 1,
};

/* Pixel formats by their protocol names; planes are packed tightly, one after the other. */
enum vg_format {
	VG_FORMAT_NONE = 0,
	VG_FORMAT_NV12,
	VG_FORMAT_I420,
	VG_FORMAT_YUY2,
	VG_FORMAT_UYVY,
	VG_FORMAT_BGRA,
	VG_FORMAT_RGBA,
};

/* Little-endian on the wire; every platform OBS runs on is little-endian, so these are memcpy'd. */
#pragma pack(push, 1)
struct vg_header {
	char magic[4];
	uint16_t version;
	uint16_t type;
	uint32_t length;
	uint32_t seq;
};

struct vg_frame_payload {
	uint32_t slot;
	uint32_t reserved;
	int64_t timestamp_ns;
};

struct vg_done_payload {
	uint32_t slot;
	uint32_t status;
	int64_t timestamp_ns;
	uint64_t process_ns;
};
#pragma pack(pop)

_Static_assert(sizeof(struct vg_header) == VG_HEADER_SIZE, "header is 16 bytes");
_Static_assert(sizeof(struct vg_frame_payload) == 16, "FRAME payload is 16 bytes");
_Static_assert(sizeof(struct vg_done_payload) == 24, "DONE payload is 24 bytes");
