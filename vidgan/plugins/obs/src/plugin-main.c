/* obs-vidgan: registers the vidgan stylize filter. The filter does no inference itself: it is a
 * thin client of a local `vidgan serve` process (see vidgan-client.h). */
#include <obs-module.h>

OBS_DECLARE_MODULE()
OBS_MODULE_USE_DEFAULT_LOCALE("obs-vidgan", "en-US")

extern struct obs_source_info vidgan_filter_info;

MODULE_EXPORT const char *obs_module_description(void)
{
	return "vidgan stylize: GAN video stylization from a local vidgan serve";
}

bool obs_module_load(void)
{
	obs_register_source(&vidgan_filter_info);
	blog(LOG_INFO, "[vidgan] plugin loaded (protocol 1)");
	return true;
}
