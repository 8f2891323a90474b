/* The OBS side of the filter: settings <-> vg_settings, obs_source_frame <-> vg_frame, status.
 *
 * filter_video runs on OBS's video thread for async sources (webcams, media sources). It copies
 * the frame into shared memory, signals vidgan serve and writes the newest finished result over
 * the frame in place (one frame of latency), or leaves the frame as it is when there is none.
 *
 * The stylizer's controls are built from the option schema vidgan serve sends in WELCOME (one
 * control per live option of its stylize filter, named as the option), so a new option on the
 * server shows up here without a change to this file; FALLBACK_SCHEMA stands in until a server
 * has answered. */
#include "vidgan-filter.h"

#include <limits.h>
#include <math.h>
#include <media-io/video-io.h>
#include <pthread.h>
#include <string.h>
#include <util/bmem.h>

#include "vidgan-client.h"

#ifndef VIDGAN_SERVE_COMMAND
#define VIDGAN_SERVE_COMMAND "vidgan serve"
#endif
#define DEFAULT_STYLES "van_gogh,monet,ukiyoe"

/* The stylizer's controls while no server has described its own (none running yet, or one from
 * before option schemas), in the schema's shape; "step" is this list's own addition. */
static const char FALLBACK_SCHEMA[] =
	"[{\"name\":\"style\",\"type\":\"str\",\"default\":\"van_gogh\"},"
	"{\"name\":\"strength\",\"type\":\"float\",\"default\":1.0,\"min\":0.0,\"max\":1.0,\"step\":0.05},"
	"{\"name\":\"temporal\",\"type\":\"float\",\"default\":0.9,\"min\":0.0,\"max\":1.0,\"step\":0.05},"
	"{\"name\":\"scale\",\"type\":\"int\",\"default\":0,\"min\":0,\"max\":1080,\"step\":2}]";

/* The filter's own setting keys: a server option of the same name gets no control. */
static const char *const OWN_KEYS[] = {"autostart", "serve_command", "socket_path", "chain",
				       "status",    "refresh",       "server",      NULL};

struct vidgan_filter {
	obs_source_t *context;
	struct vg_client *client;
	char last_status[VG_STATUS_MAX];
	pthread_mutex_t lock;      /* options and sent: properties run on the UI thread, ticks on video */
	obs_data_array_t *options; /* the schema the controls and CONFIGURE follow */
	unsigned schema_generation;
	struct vg_settings sent; /* what the client was last given */
};

static bool is_own_key(const char *name)
{
	for (const char *const *key = OWN_KEYS; *key; key++)
		if (strcmp(*key, name) == 0)
			return true;
	return false;
}

/* A schema's JSON array as obs_data (wrapped in an object, scalars in arrays as {"value": x}:
 * libobs reads nothing else); NULL when it does not parse. */
static obs_data_array_t *parse_schema(const char *json)
{
	static const char prefix[] = "{\"options\":";
	size_t size = sizeof(prefix) + strlen(json) * 11 + 2; /* each scalar may grow by {"value":} */
	char *text = bmalloc(size);
	obs_data_array_t *options = NULL;
	memcpy(text, prefix, sizeof(prefix));
	size_t used = sizeof(prefix) - 1;
	if (vg_json_wrap_array_scalars(json, text + used, size - used - 1)) {
		strcat(text, "}");
		obs_data_t *root = obs_data_create_from_json(text);
		if (root) {
			options = obs_data_get_array(root, "options");
			obs_data_release(root);
		}
	}
	bfree(text);
	return options;
}

/* The schema in force (a reference the caller releases): the server's, else the fallback. */
static obs_data_array_t *current_options(struct vidgan_filter *filter)
{
	obs_data_array_t *options = NULL;
	if (filter) {
		pthread_mutex_lock(&filter->lock);
		options = filter->options;
		if (options)
			obs_data_array_addref(options);
		pthread_mutex_unlock(&filter->lock);
	}
	return options ? options : parse_schema(FALLBACK_SCHEMA);
}

static bool has_key(obs_data_t *entry, const char *key)
{
	return obs_data_has_user_value(entry, key);
}

/* How a choice option's values are typed: by its first choice. */
static enum obs_combo_format choice_format(obs_data_t *entry)
{
	enum obs_combo_format format = OBS_COMBO_FORMAT_STRING;
	obs_data_array_t *choices = obs_data_get_array(entry, "choices");
	obs_data_t *first = choices && obs_data_array_count(choices) ? obs_data_array_item(choices, 0) : NULL;
	obs_data_item_t *value = first ? obs_data_item_byname(first, "value") : NULL;
	if (value && obs_data_item_gettype(value) == OBS_DATA_NUMBER)
		format = obs_data_item_numtype(value) == OBS_DATA_NUM_INT ? OBS_COMBO_FORMAT_INT : OBS_COMBO_FORMAT_FLOAT;
	obs_data_item_release(&value);
	obs_data_release(first);
	obs_data_array_release(choices);
	return format;
}

/* The text CONFIGURE carries for option `name` of the given schema type. */
static void option_text(obs_data_t *data, obs_data_t *entry, const char *name, char *out, size_t size)
{
	const char *type = obs_data_get_string(entry, "type");
	enum obs_combo_format format = strcmp(type, "choice") == 0 ? choice_format(entry) : OBS_COMBO_FORMAT_STRING;
	if (strcmp(type, "float") == 0 || format == OBS_COMBO_FORMAT_FLOAT)
		snprintf(out, size, "%.9g", obs_data_get_double(data, name));
	else if (strcmp(type, "int") == 0 || format == OBS_COMBO_FORMAT_INT)
		snprintf(out, size, "%lld", obs_data_get_int(data, name));
	else if (strcmp(type, "bool") == 0)
		snprintf(out, size, "%d", obs_data_get_bool(data, name) ? 1 : 0);
	else
		snprintf(out, size, "%s", obs_data_get_string(data, name));
}

static void settings_from_obs(struct vidgan_filter *filter, obs_data_t *data, struct vg_settings *s)
{
	vg_settings_defaults(s);
	s->autostart = obs_data_get_bool(data, "autostart");
	snprintf(s->serve_command, sizeof(s->serve_command), "%s", obs_data_get_string(data, "serve_command"));
	snprintf(s->socket_path, sizeof(s->socket_path), "%s", obs_data_get_string(data, "socket_path"));
	snprintf(s->chain, sizeof(s->chain), "%s", obs_data_get_string(data, "chain"));
	/* Every option with a value in the settings (set by the user, or a default the controls
	 * showed); the others keep the server's defaults. */
	obs_data_array_t *options = current_options(filter);
	for (size_t i = 0; options && i < obs_data_array_count(options); i++) {
		obs_data_t *entry = obs_data_array_item(options, i);
		const char *name = obs_data_get_string(entry, "name");
		if (name[0] && !is_own_key(name) &&
		    (obs_data_has_user_value(data, name) || obs_data_has_default_value(data, name))) {
			char value[1024];
			option_text(data, entry, name, value, sizeof(value));
			if (!vg_settings_add_option(s, name, value))
				blog(LOG_WARNING, "[vidgan] option %s is not sent: its value has a line break or is too long",
				     name);
		}
		obs_data_release(entry);
	}
	obs_data_array_release(options);
}

static bool same_settings(const struct vg_settings *a, const struct vg_settings *b)
{
	return a->autostart == b->autostart && strcmp(a->socket_path, b->socket_path) == 0 &&
	       strcmp(a->serve_command, b->serve_command) == 0 && strcmp(a->options, b->options) == 0 &&
	       strcmp(a->chain, b->chain) == 0;
}

/* Hand new settings to the client; unchanged ones are not sent again (that would restart the
 * stylizer's recurrence for nothing). */
static void apply_settings(struct vidgan_filter *filter, obs_data_t *data)
{
	struct vg_settings *s = bzalloc(sizeof(*s));
	settings_from_obs(filter, data, s);
	pthread_mutex_lock(&filter->lock);
	bool changed = !same_settings(s, &filter->sent);
	if (changed)
		filter->sent = *s;
	pthread_mutex_unlock(&filter->lock);
	if (changed && filter->client)
		vg_client_update(filter->client, s);
	bfree(s);
}

/* Schema-typed defaults of every option into settings (the controls show them). */
static void set_option_defaults(obs_data_t *settings, obs_data_array_t *options)
{
	for (size_t i = 0; options && i < obs_data_array_count(options); i++) {
		obs_data_t *entry = obs_data_array_item(options, i);
		const char *name = obs_data_get_string(entry, "name");
		const char *type = obs_data_get_string(entry, "type");
		enum obs_combo_format format = strcmp(type, "choice") == 0 ? choice_format(entry) : OBS_COMBO_FORMAT_STRING;
		if (!name[0] || is_own_key(name) || !has_key(entry, "default")) {
			obs_data_release(entry);
			continue;
		}
		if (strcmp(type, "float") == 0 || format == OBS_COMBO_FORMAT_FLOAT)
			obs_data_set_default_double(settings, name, obs_data_get_double(entry, "default"));
		else if (strcmp(type, "int") == 0 || format == OBS_COMBO_FORMAT_INT)
			obs_data_set_default_int(settings, name, obs_data_get_int(entry, "default"));
		else if (strcmp(type, "bool") == 0)
			obs_data_set_default_bool(settings, name, obs_data_get_bool(entry, "default"));
		else if (strcmp(type, "list") != 0)
			obs_data_set_default_string(settings, name, obs_data_get_string(entry, "default"));
		obs_data_release(entry);
	}
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
	pthread_mutex_init(&filter->lock, NULL);
	struct vg_settings *s = bzalloc(sizeof(*s));
	settings_from_obs(filter, settings, s);
	filter->sent = *s;
	filter->client = vg_client_create(s);
	bfree(s);
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
	obs_data_array_release(filter->options);
	pthread_mutex_destroy(&filter->lock);
	bfree(filter);
}

void vidgan_filter_update(void *data, obs_data_t *settings)
{
	apply_settings(data, settings);
}

void vidgan_filter_get_defaults(obs_data_t *settings)
{
	obs_data_array_t *fallback = parse_schema(FALLBACK_SCHEMA);
	set_option_defaults(settings, fallback);
	obs_data_array_release(fallback);
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
	return true; /* rebuild the properties: new status text, style list and controls */
}

/* "Option.NAME" (and "Option.NAME.Description") from the locale, else the schema's name and help. */
static void option_texts(obs_data_t *entry, const char *name, const char **label, const char **description)
{
	char key[128];
	snprintf(key, sizeof(key), "Option.%s", name);
	*label = name;
	obs_module_get_string(key, label);
	snprintf(key, sizeof(key), "Option.%s.Description", name);
	*description = obs_data_get_string(entry, "help");
	obs_module_get_string(key, description);
}

/* One control for one schema entry: sliders for bounded numbers, lists for choices, text otherwise;
 * a str option named style is an editable list of the server's styles. */
static void add_option_property(obs_properties_t *props, obs_data_t *entry, const char *styles)
{
	const char *name = obs_data_get_string(entry, "name");
	const char *type = obs_data_get_string(entry, "type");
	if (!name[0] || is_own_key(name))
		return;
	const char *label, *description;
	option_texts(entry, name, &label, &description);
	bool bounded = has_key(entry, "min") && has_key(entry, "max");
	obs_property_t *p;
	if (strcmp(type, "float") == 0) {
		double min = has_key(entry, "min") ? obs_data_get_double(entry, "min") : -1e9;
		double max = has_key(entry, "max") ? obs_data_get_double(entry, "max") : 1e9;
		double step = has_key(entry, "step") ? obs_data_get_double(entry, "step") : bounded ? (max - min) / 20 : 0.01;
		p = bounded ? obs_properties_add_float_slider(props, name, label, min, max, step)
			    : obs_properties_add_float(props, name, label, min, max, step);
	} else if (strcmp(type, "int") == 0) {
		long long min = has_key(entry, "min") ? obs_data_get_int(entry, "min") : INT_MIN;
		long long max = has_key(entry, "max") ? obs_data_get_int(entry, "max") : INT_MAX;
		long long step = has_key(entry, "step") ? obs_data_get_int(entry, "step") : 1;
		p = bounded ? obs_properties_add_int_slider(props, name, label, (int)min, (int)max, (int)step)
			    : obs_properties_add_int(props, name, label, (int)min, (int)max, (int)step);
	} else if (strcmp(type, "bool") == 0) {
		p = obs_properties_add_bool(props, name, label);
	} else if (strcmp(type, "choice") == 0) {
		enum obs_combo_format format = choice_format(entry);
		p = obs_properties_add_list(props, name, label, OBS_COMBO_TYPE_LIST, format);
		obs_data_array_t *choices = obs_data_get_array(entry, "choices");
		for (size_t i = 0; choices && i < obs_data_array_count(choices); i++) {
			obs_data_t *choice = obs_data_array_item(choices, i);
			char text[256];
			option_text(choice, entry, "value", text, sizeof(text));
			if (format == OBS_COMBO_FORMAT_INT)
				obs_property_list_add_int(p, text, obs_data_get_int(choice, "value"));
			else if (format == OBS_COMBO_FORMAT_FLOAT)
				obs_property_list_add_float(p, text, obs_data_get_double(choice, "value"));
			else
				obs_property_list_add_string(p, text, obs_data_get_string(choice, "value"));
			obs_data_release(choice);
		}
		obs_data_array_release(choices);
	} else if (strcmp(type, "str") == 0 && strcmp(name, "style") == 0) {
		p = obs_properties_add_list(props, name, label, OBS_COMBO_TYPE_EDITABLE, OBS_COMBO_FORMAT_STRING);
		char list[1024];
		snprintf(list, sizeof(list), "%s", styles);
		char *save = NULL;
		for (char *style = strtok_r(list, ",", &save); style; style = strtok_r(NULL, ",", &save))
			obs_property_list_add_string(p, style, style);
	} else { /* str, and list (comma separated) */
		p = obs_properties_add_text(props, name, label, OBS_TEXT_DEFAULT);
	}
	if (description[0])
		obs_property_set_long_description(p, description);
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

	obs_data_array_t *options = current_options(filter);
	if (filter) { /* the server's options need their defaults in the settings, as get_defaults gave the fallback's */
		obs_data_t *settings = obs_source_get_settings(filter->context);
		set_option_defaults(settings, options);
		obs_data_release(settings);
	}
	for (size_t i = 0; options && i < obs_data_array_count(options); i++) {
		obs_data_t *entry = obs_data_array_item(options, i);
		add_option_property(props, entry, styles);
		obs_data_release(entry);
	}
	obs_data_array_release(options);

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

/* A different schema from the server: switch the controls to it and send the settings it names. */
static void follow_schema(struct vidgan_filter *filter)
{
	unsigned generation = vg_client_schema(filter->client, NULL, 0);
	if (generation == filter->schema_generation)
		return;
	filter->schema_generation = generation;
	char *json = bmalloc(VG_MAX_PAYLOAD + 1);
	vg_client_schema(filter->client, json, VG_MAX_PAYLOAD + 1);
	obs_data_array_t *options = json[0] ? parse_schema(json) : NULL;
	if (json[0] && !options)
		blog(LOG_WARNING, "[vidgan] the server's option schema does not parse; keeping the built-in controls");
	bfree(json);
	pthread_mutex_lock(&filter->lock);
	obs_data_array_t *old = filter->options;
	filter->options = options;
	pthread_mutex_unlock(&filter->lock);
	obs_data_array_release(old);
	obs_data_t *settings = obs_source_get_settings(filter->context);
	apply_settings(filter, settings);
	obs_data_release(settings);
}

void vidgan_filter_video_tick(void *data, float seconds)
{
	UNUSED_PARAMETER(seconds);
	struct vidgan_filter *filter = data;
	if (!filter->client)
		return;
	follow_schema(filter);
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
