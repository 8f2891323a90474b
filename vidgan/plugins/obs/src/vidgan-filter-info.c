/* The filter's table of OBS callbacks; the callbacks live in vidgan-filter.c. */
#include "vidgan-filter.h"

struct obs_source_info vidgan_filter_info = {
	.id = "vidgan_stylize_filter",
	.type = OBS_SOURCE_TYPE_FILTER,
	.output_flags = OBS_SOURCE_ASYNC_VIDEO,
	.get_name = vidgan_filter_get_name,
	.create = vidgan_filter_create,
	.destroy = vidgan_filter_destroy,
	.update = vidgan_filter_update,
	.get_defaults = vidgan_filter_get_defaults,
	.get_properties = vidgan_filter_get_properties,
	.video_tick = vidgan_filter_video_tick,
	.filter_video = vidgan_filter_video,
};
