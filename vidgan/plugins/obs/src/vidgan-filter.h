#pragma once

#include <obs-module.h>

const char *vidgan_filter_get_name(void *type_data);
void *vidgan_filter_create(obs_data_t *settings, obs_source_t *source);
void vidgan_filter_destroy(void *data);
void vidgan_filter_update(void *data, obs_data_t *settings);
void vidgan_filter_get_defaults(obs_data_t *settings);
obs_properties_t *vidgan_filter_get_properties(void *data);
void vidgan_filter_video_tick(void *data, float seconds);
struct obs_source_frame *vidgan_filter_video(void *data, struct obs_source_frame *frame);
