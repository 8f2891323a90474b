/* The OBS side of the filter: settings <-> vg_settings, obs_source_frame <-> vg_frame, status.
 *
 * filter_video runs on OBS's video thread for async sources (webcams, media sources). It copies
 * the frame into shared memory, signals vidgan serve and writes the newest finished result over
 * the frame in place (one frame of latency), or leaves the frame as it is when there is none. */
#include "vidgan-filter.h"

#include <math.h>
#include <media-io/video-io.h>
#include <string.h>
#include <util/bmem.h>

#include "vidgan-client.h"

#ifndef VIDGAN_SERVE_COMMAND
#define VIDGAN_SERVE_COMMAND "vidgan serve"
#endif
#define DEFAULT_STYLES "van_gogh,monet,ukiyoe"

struct vidgan_filter {
	obs_source_t *context;
	struct vg_client *client;
	char last_status[VG_STATUS_MAX];
};

static void settings_from_obs(obs_data_t *data, struct vg_settings *s)
{
	vg_settings_defaults(s);
	snprintf(s->style, sizeof(s->style), "%s", obs_data_get_string(data, "style"));
	s->strength = obs_data_get_double(data, "strength");
	s->temporal = obs_data_get_double(data, "temporal");
	s->scale = (int)obs_data_get_int(data, "scale");
	s->autostart = obs_data_get_bool(data, "autostart");
	snprintf(s->serve_command, sizeof(s->serve_command), "%s", obs_data_get_string(data, "serve_command"));
	snprintf(s->socket_path, sizeof(s->socket_path), "%s", obs_data_get_string(data, "socket_path"));
	snprintf(s->chain, sizeof(s->chain), "%s", obs_data_get_string(data, "chain"));
}

const char *vidgan_filter_get_name(void *type_data)
{
	UNUSED_PARAMETER(type_data);
	return obs_module_text("VidganStylize");
}

void *vidgan_filter_create(obs_data_t *settings, obs_source_t *source)
{
	struct vidgan_filter *filter = bzalloc(sizeof(*filter));
	filter->context = source;
	struct vg_settings s;
	settings_from_obs(settings, &s);
	filter->client = vg_client_create(&s);
	if (!filter->client) {
		blog(LOG_ERROR, "[vidgan] could not start the filter's connection thread; frames pass through");
	}
	return filter;
}

void vidgan_filter_destroy(void *data)
{
	struct vidgan_filter *filter = data;
	if (filter->client) {
		struct vg_stats st;
		vg_client_stats(filter->client, &st);
		blog(LOG_INFO,
		     "[vidgan] stats: frames=%llu stylized=%llu passthrough=%llu sent=%llu reconnects=%llu "
		     "filter_ms_mean=%.3f filter_ms_max=%.3f latency_ms_mean=%.1f latency_ms_max=%.1f",
		     (unsigned long long)st.frames, (unsigned long long)st.stylized,
		     (unsigned long long)st.passthrough, (unsigned long long)st.sent,
		     (unsigned long long)st.reconnects, st.frames ? st.call_ms_total / (double)st.frames : 0.0,
		     st.call_ms_max, st.latency_count ? st.latency_ms_total / (double)st.latency_count : 0.0,
		     st.latency_ms_max);
		vg_client_destroy(filter->client);
	}
	bfree(filter);
}

void vidgan_filter_update(void *data, obs_data_t *settings)
{
	struct vidgan_filter *filter = data;
	struct vg_settings s;
	settings_from_obs(settings, &s);
	if (filter->client)
		vg_client_update(filter->client, &s);
}

void vidgan_filter_get_defaults(obs_data_t *settings)
{
	obs_data_set_default_string(settings, "style", "van_gogh");
	obs_data_set_default_double(settings, "strength", 1.0);
	obs_data_set_default_double(settings, "temporal", 0.8);
	obs_data_set_default_int(settings, "scale", 0);
	obs_data_set_default_bool(settings, "autostart", true);
	obs_data_set_default_string(settings, "serve_command", VIDGAN_SERVE_COMMAND);
	obs_data_set_default_string(settings, "socket_path", "");
	obs_data_set_default_string(settings, "chain", "");
}

static bool refresh_clicked(obs_properties_t *props, obs_property_t *property, void *data)
{
	UNUSED_PARAMETER(props);
	UNUSED_PARAMETER(property);
	UNUSED_PARAMETER(data);
	return true; /* rebuild the properties: new status text and style list */
}

obs_properties_t *vidgan_filter_get_properties(void *data)
{
	struct vidgan_filter *filter = data;
	obs_properties_t *props = obs_properties_create();

	char styles[1024] = "";
	char status[VG_STATUS_MAX] = "not running";
	if (filter && filter->client) {
		vg_client_styles(filter->client, styles, sizeof(styles));
		vg_client_status(filter->client, status, sizeof(status));
	}
	if (!styles[0])
		snprintf(styles, sizeof(styles), "%s", DEFAULT_STYLES);

	obs_property_t *style = obs_properties_add_list(props, "style", obs_module_text("Style"),
							OBS_COMBO_TYPE_EDITABLE, OBS_COMBO_FORMAT_STRING);
	char *save = NULL;
	for (char *name = strtok_r(styles, ",", &save); name; name = strtok_r(NULL, ",", &save))
		obs_property_list_add_string(style, name, name);

	obs_properties_add_float_slider(props, "strength", obs_module_text("Strength"), 0.0, 1.0, 0.05);
	obs_properties_add_float_slider(props, "temporal", obs_module_text("TemporalSmoothing"), 0.0, 1.0, 0.05);
	obs_property_t *scale =
		obs_properties_add_int_slider(props, "scale", obs_module_text("ProcessingScale"), 0, 1080, 2);
	obs_property_set_long_description(scale, obs_module_text("ProcessingScale.Description"));

	char status_text[VG_STATUS_MAX + 32];
	snprintf(status_text, sizeof(status_text), "%s: %s", obs_module_text("Status"), status);
	obs_properties_add_text(props, "status", status_text, OBS_TEXT_INFO);
	obs_properties_add_button(props, "refresh", obs_module_text("Refresh"), refresh_clicked);

	obs_properties_t *server = obs_properties_create();
	obs_properties_add_bool(server, "autostart", obs_module_text("Autostart"));
	obs_properties_add_text(server, "serve_command", obs_module_text("ServeCommand"), OBS_TEXT_DEFAULT);
	obs_properties_add_text(server, "socket_path", obs_module_text("SocketPath"), OBS_TEXT_DEFAULT);
	obs_properties_add_text(server, "chain", obs_module_text("Chain"), OBS_TEXT_DEFAULT);
	obs_properties_add_group(props, "server", obs_module_text("Server"), OBS_GROUP_NORMAL, server);
	return props;
}

void vidgan_filter_video_tick(void *data, float seconds)
{
	UNUSED_PARAMETER(seconds);
	struct vidgan_filter *filter = data;
	if (!filter->client)
		return;
	char status[VG_STATUS_MAX];
	vg_client_status(filter->client, status, sizeof(status));
	if (strcmp(status, filter->last_status) != 0) {
		blog(LOG_INFO, "[vidgan] status: %s", status);
		snprintf(filter->last_status, sizeof(filter->last_status), "%s", status);
	}
}

static enum vg_format format_of(enum video_format format)
{
	switch (format) {
	case VIDEO_FORMAT_NV12: return VG_FORMAT_NV12;
	case VIDEO_FORMAT_I420: return VG_FORMAT_I420;
	case VIDEO_FORMAT_YUY2: return VG_FORMAT_YUY2;
	case VIDEO_FORMAT_UYVY: return VG_FORMAT_UYVY;
	case VIDEO_FORMAT_BGRA:
	case VIDEO_FORMAT_BGRX: return VG_FORMAT_BGRA;
	case VIDEO_FORMAT_RGBA: return VG_FORMAT_RGBA;
	default: return VG_FORMAT_NONE;
	}
}

/* OBS hands over the YUV->RGB matrix itself, not its name: compare with BT.709's. */
static int matrix_of(const struct obs_source_frame *frame)
{
	float bt709[16], min_range[3], max_range[3];
	enum video_range_type range = frame->full_range ? VIDEO_RANGE_FULL : VIDEO_RANGE_PARTIAL;
	if (!video_format_get_parameters(VIDEO_CS_709, range, bt709, min_range, max_range))
		return 709;
	for (int i = 0; i < 16; i++)
		if (fabsf(bt709[i] - frame->color_matrix[i]) > 1e-3f)
			return 601;
	return 709;
}

struct obs_source_frame *vidgan_filter_video(void *data, struct obs_source_frame *frame)
{
	struct vidgan_filter *filter = data;
	if (!filter->client || !frame)
		return frame;
	struct vg_frame vf = {
		.format = format_of(frame->format),
		.width = frame->width,
		.height = frame->height,
		.timestamp_ns = (int64_t)frame->timestamp,
		.full_range = frame->full_range,
		.matrix = 709,
	};
	if (vf.format != VG_FORMAT_BGRA && vf.format != VG_FORMAT_RGBA && vf.format != VG_FORMAT_NONE)
		vf.matrix = matrix_of(frame);
	for (int p = 0; p < 4; p++) {
		vf.data[p] = frame->data[p];
		vf.linesize[p] = frame->linesize[p];
	}
	vg_client_process(filter->client, &vf); /* the frame now holds the newest result, or itself */
	return frame;
}
