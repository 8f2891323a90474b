/* Drives the filter's transport (vidgan-client.c) the way OBS does, without OBS: frames at a
 * fixed rate through vg_client_process, for tests (pass-through, recovery, correctness) and for
 * measuring what the filter costs OBS's video thread per frame.
 *
 *   vidgan-client-check --socket PATH [--format bgra] [--size 1280x720] [--frames 90] [--fps 30]
 *                       [--chain hflip] [--serve-command CMD] [--status-every N]
 *                       [--resize-at N --resize WxH] [--rechain-at N --rechain CHAIN]
 *                       [--style NAME] [--option NAME=VALUE]... [--print-schema 1]
 *                       [--until-processed N] [--stop-on-eof]
 *
 * Frames carry their index in every pixel's R byte (BGRA/RGBA) and x in B, so with --chain hflip
 * each processed frame is checked: B mirrored, R the index of a frame sent before it and not before
 * the previous result's (how many frames before depends on how busy the server is; age_max says).
 * --frames is a cap when the run ends on an event: --until-processed stops after N processed
 * frames (counted from the --resize-at/--rechain-at frame when one is given), --stop-on-eof when
 * stdin closes (a test driving the server's life from outside ends the run so). Prints one summary
 * line of key=value pairs, after the server's option schema when asked for it (schema=JSON as
 * received, schema_objects=JSON as the OBS filter hands it to libobs); --status-every N also
 * prints a line every N frames. */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vidgan-client.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static enum vg_format parse_format(const char *name)
{
	const enum vg_format all[] = {VG_FORMAT_NV12, VG_FORMAT_I420, VG_FORMAT_YUY2,
				      VG_FORMAT_UYVY, VG_FORMAT_BGRA, VG_FORMAT_RGBA};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(name, vg_format_name(all[i])) == 0)
			return all[i];
	return VG_FORMAT_NONE;
}

/* True once stdin has reached end of file (never blocks; a byte written to it is read and ignored). */
static bool stdin_closed(void)
{
	struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};
	if (poll(&in, 1, 0) <= 0)
		return false;
	if (in.revents & POLLNVAL)
		return true;
	char byte;
	return read(STDIN_FILENO, &byte, 1) <= 0;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Plane layout with padded strides, as capture sources deliver them. */
static void setup_frame(struct vg_frame *f, uint8_t *buffer, uint32_t pad)
{
	uint32_t w = f->width, h = f->height;
	switch (f->format) {
	case VG_FORMAT_NV12:
		f->linesize[0] = f->linesize[1] = w + pad;
		f->data[0] = buffer;
		f->data[1] = buffer + (size_t)f->linesize[0] * h;
		break;
	case VG_FORMAT_I420:
		f->linesize[0] = w + pad;
		f->linesize[1] = f->linesize[2] = w / 2 + pad;
		f->data[0] = buffer;
		f->data[1] = f->data[0] + (size_t)f->linesize[0] * h;
		f->data[2] = f->data[1] + (size_t)f->linesize[1] * (h / 2);
		break;
	case VG_FORMAT_YUY2:
	case VG_FORMAT_UYVY:
		f->linesize[0] = w * 2 + pad;
		f->data[0] = buffer;
		break;
	default:
		f->linesize[0] = w * 4 + pad;
		f->data[0] = buffer;
		break;
	}
}

static void paint(struct vg_frame *f, uint32_t index)
{
	uint32_t w = f->width, h = f->height;
	if (f->format == VG_FORMAT_BGRA || f->format == VG_FORMAT_RGBA) {
		int r = f->format == VG_FORMAT_BGRA ? 2 : 0, b = 2 - r;
		for (uint32_t y = 0; y < h; y++) {
			uint8_t *row = f->data[0] + (size_t)y * f->linesize[0];
			for (uint32_t x = 0; x < w; x++) {
				row[4 * x + b] = (uint8_t)x;
				row[4 * x + 1] = (uint8_t)y;
				row[4 * x + r] = (uint8_t)index;
				row[4 * x + 3] = 255;
			}
		}
		return;
	}
	size_t row[3] = {0}, rows[3] = {0};
	int planes = 1;
	if (f->format == VG_FORMAT_NV12)
		row[0] = w, rows[0] = h, row[1] = w, rows[1] = h / 2, planes = 2;
	else if (f->format == VG_FORMAT_I420)
		row[0] = w, rows[0] = h, row[1] = row[2] = w / 2, rows[1] = rows[2] = h / 2, planes = 3;
	else
		row[0] = (size_t)w * 2, rows[0] = h;
	for (int p = 0; p < planes; p++)
		for (size_t y = 0; y < rows[p]; y++)
			for (size_t x = 0; x < row[p]; x++)
				f->data[p][y * f->linesize[p] + x] = (uint8_t)(p == 0 ? 16 + (x + y + index) % 200 : 128);
}

/* With hflip on the server: B is mirrored x, R the index of an earlier frame, not older than the last
 * result's (*last: that index, -1 before the first result of a connection). Indices wrap at 256, so
 * "older" means up to 63 frames older (an earlier slot shown after a later one would be a few);
 * forward jumps can be long: a server may stall for 5 s (150 frames at 30 fps) before the client
 * gives up on it. */
static int check_hflip(const struct vg_frame *f, uint32_t index, int *last, int *age_max)
{
	int r = f->format == VG_FORMAT_BGRA ? 2 : 0, b = 2 - r;
	uint32_t w = f->width, h = f->height;
	const uint8_t *first = f->data[0];
	uint8_t source = first[r];
	uint8_t age = (uint8_t)((uint8_t)index - source);
	uint8_t behind = (uint8_t)((uint8_t)*last - source);
	bool backwards = *last >= 0 && behind >= 1 && behind < 64;
	if (age < 1 || backwards)
		return 1;
	*last = source;
	if (age > *age_max)
		*age_max = age;
	for (uint32_t y = 0; y < h; y += 7) {
		const uint8_t *row = f->data[0] + (size_t)y * f->linesize[0];
		for (uint32_t x = 0; x < w; x += 5)
			if (row[4 * x + b] != (uint8_t)(w - 1 - x) || row[4 * x + 1] != (uint8_t)y ||
			    row[4 * x + r] != source)
				return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct vg_settings settings;
	vg_settings_defaults(&settings);
	settings.autostart = false;
	struct vg_frame frame = {.format = VG_FORMAT_BGRA, .width = 320, .height = 240, .matrix = 709};
	int frames = 90, status_every = 0, resize_at = -1;
	uint32_t resize_w = 0, resize_h = 0;
	int rechain_at = -1, until_processed = 0;
	bool stop_on_eof = false;
	char rechain[512] = "";
	bool print_schema = false;
	double fps = 30.0;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(arg, "--stop-on-eof")) {
			stop_on_eof = true;
			continue;
		}
		if (!value) {
			fprintf(stderr, "vidgan-client-check: %s needs a value\n", arg);
			return 2;
		}
		i++;
		if (!strcmp(arg, "--socket"))
			snprintf(settings.socket_path, sizeof(settings.socket_path), "%s", value);
		else if (!strcmp(arg, "--format"))
			frame.format = parse_format(value);
		else if (!strcmp(arg, "--size"))
			sscanf(value, "%ux%u", &frame.width, &frame.height);
		else if (!strcmp(arg, "--frames"))
			frames = atoi(value);
		else if (!strcmp(arg, "--fps"))
			fps = atof(value);
		else if (!strcmp(arg, "--chain"))
			snprintf(settings.chain, sizeof(settings.chain), "%s", value);
		else if (!strcmp(arg, "--style") || !strcmp(arg, "--option")) {
			char line[512];
			snprintf(line, sizeof(line), "%s%s", !strcmp(arg, "--style") ? "style=" : "", value);
			char *eq = strchr(line, '=');
			if (eq)
				*eq = '\0';
			if (!eq || !vg_settings_add_option(&settings, line, eq + 1)) {
				fprintf(stderr, "vidgan-client-check: bad %s %s (NAME=VALUE)\n", arg, value);
				return 2;
			}
		} else if (!strcmp(arg, "--print-schema"))
			print_schema = atoi(value) != 0;
		else if (!strcmp(arg, "--serve-command")) {
			snprintf(settings.serve_command, sizeof(settings.serve_command), "%s", value);
			settings.autostart = true;
		} else if (!strcmp(arg, "--status-every"))
			status_every = atoi(value);
		else if (!strcmp(arg, "--resize-at"))
			resize_at = atoi(value);
		else if (!strcmp(arg, "--resize"))
			sscanf(value, "%ux%u", &resize_w, &resize_h);
		else if (!strcmp(arg, "--rechain-at"))
			rechain_at = atoi(value);
		else if (!strcmp(arg, "--rechain"))
			snprintf(rechain, sizeof(rechain), "%s", value);
		else if (!strcmp(arg, "--until-processed"))
			until_processed = atoi(value);
		else {
			fprintf(stderr, "vidgan-client-check: unknown option %s\n", arg);
			return 2;
		}
	}
	if (frame.format == VG_FORMAT_NONE || frames <= 0 || fps <= 0) {
		fprintf(stderr, "vidgan-client-check: bad --format, --frames or --fps\n");
		return 2;
	}
	bool verify = !strcmp(settings.chain, "hflip") &&
		      (frame.format == VG_FORMAT_BGRA || frame.format == VG_FORMAT_RGBA);
	uint32_t max_w = frame.width > resize_w ? frame.width : resize_w;
	uint32_t max_h = frame.height > resize_h ? frame.height : resize_h;
	uint8_t *buffer = calloc(1, (size_t)(max_w * 4 + 64) * max_h * 2);
	double *costs = calloc((size_t)frames, sizeof(double));
	struct vg_client *client = vg_client_create(&settings);
	if (!buffer || !costs || !client) {
		fprintf(stderr, "vidgan-client-check: out of memory\n");
		return 1;
	}
	setup_frame(&frame, buffer, 64);
	int last_source = -1, age_max = 0;
	uint64_t connection = 0;
	int bad = 0, processed = 0, first_processed = -1, longest_gap = 0, gap = 0, processed_after_change = 0;
	double start = now_ms(), interval = 1000.0 / fps;
	bool changes = resize_at >= 0 || rechain_at >= 0;
	int sent = 0;
	for (int i = 0; i < frames; i++) {
		if (stop_on_eof && stdin_closed())
			break;
		double due = start + i * interval, wait = due - now_ms();
		if (wait > 0) {
			struct timespec ts = {.tv_sec = (time_t)(wait / 1000), .tv_nsec = (long)(fmod(wait, 1000.0) * 1e6)};
			nanosleep(&ts, NULL);
		}
		if (i == resize_at && resize_w && resize_h) { /* the source changes size mid-stream */
			frame.width = resize_w;
			frame.height = resize_h;
			setup_frame(&frame, buffer, 64);
		}
		if (i == rechain_at) { /* new settings from the filter's properties, mid-stream */
			snprintf(settings.chain, sizeof(settings.chain), "%s", rechain);
			vg_client_update(client, &settings);
			verify = false;
		}
		frame.timestamp_ns = (int64_t)(i * interval * 1e6);
		paint(&frame, (uint32_t)i);
		double t0 = now_ms();
		bool done = vg_client_process(client, &frame);
		costs[i] = now_ms() - t0;
		sent++;
		if (done) {
			processed++;
			if (first_processed < 0)
				first_processed = i;
			if (verify) {
				struct vg_stats now;
				vg_client_stats(client, &now);
				if (now.reconnects != connection) { /* a new server: its own first result */
					connection = now.reconnects;
					last_source = -1;
				}
				bad += check_hflip(&frame, (uint32_t)i, &last_source, &age_max);
			}
			if ((resize_at >= 0 && i >= resize_at) || (rechain_at >= 0 && i >= rechain_at))
				processed_after_change++;
			gap = 0;
		} else if (first_processed >= 0 && ++gap > longest_gap) {
			longest_gap = gap;
		}
		if (status_every > 0 && i % status_every == 0) {
			char status[VG_STATUS_MAX];
			vg_client_status(client, status, sizeof(status));
			struct vg_stats now;
			vg_client_stats(client, &now);
			printf("frame=%d processed=%d bad=%d reconnects=%llu status=%s\n", i, done, bad,
			       (unsigned long long)now.reconnects, status);
			fflush(stdout);
		}
		if (until_processed > 0 && (changes ? processed_after_change : processed) >= until_processed)
			break;
	}
	if (print_schema) {
		char *schema = malloc(VG_MAX_PAYLOAD + 1), *objects = malloc(4 * VG_MAX_PAYLOAD);
		if (schema && objects) {
			vg_client_schema(client, schema, VG_MAX_PAYLOAD + 1);
			printf("schema=%s\n", schema);
			printf("schema_objects=%s\n",
			       vg_json_wrap_array_scalars(schema, objects, 4 * VG_MAX_PAYLOAD) ? objects : "(malformed)");
		}
		free(schema);
		free(objects);
	}
	frames = sent;
	char status[VG_STATUS_MAX];
	vg_client_status(client, status, sizeof(status));
	struct vg_stats stats;
	vg_client_stats(client, &stats);
	vg_client_destroy(client);
	qsort(costs, (size_t)frames, sizeof(double), compare_double);
	if (frames == 0) { /* stdin closed before the first frame */
		printf("frames=0 processed=0 processed_after_change=0 passthrough=0 bad=0 status=%s\n", status);
		free(costs);
		free(buffer);
		return 0;
	}
	double total = 0;
	for (int i = 0; i < frames; i++)
		total += costs[i];
	/* The floor for the filter's own work: the two copies alone, of the same frame, in this process. */
	size_t bytes = vg_frame_bytes(frame.format, frame.width, frame.height);
	uint8_t *slot = malloc(bytes);
	double copies = now_ms();
	for (int i = 0; i < 50; i++) {
		vg_copy_to_slot(&frame, slot);
		vg_copy_from_slot(slot, &frame);
	}
	copies = (now_ms() - copies) / 50;
	free(slot);
	printf("frames=%d processed=%d processed_after_change=%d passthrough=%d bad=%d first_processed=%d "
	       "longest_gap=%d age_max=%d reconnects=%llu "
	       "cost_ms_mean=%.4f cost_ms_p50=%.4f cost_ms_p99=%.4f cost_ms_max=%.4f copies_ms=%.4f "
	       "latency_ms_mean=%.2f latency_ms_max=%.2f status=%s\n",
	       frames, processed, processed_after_change, frames - processed, bad, first_processed, longest_gap, age_max,
	       (unsigned long long)stats.reconnects, total / frames, costs[frames / 2],
	       costs[(int)(frames * 0.99)], costs[frames - 1], copies,
	       stats.latency_count ? stats.latency_ms_total / (double)stats.latency_count : 0.0,
	       stats.latency_ms_max, status);
	free(costs);
	free(buffer);
	return bad ? 1 : 0;
}
