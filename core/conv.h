/* SPDX-License-Identifier: MIT
 *
 * conv — the old name of core/luajson.h, kept only until the files below include luajson.h
 * and call vml_luajson_*: core/plugin.c, core/lapi_plugins.c, core/lapi_store.c,
 * core/lapi_base.c, core/lapi_ledger.c. Then delete this file.
 */
#ifndef VML_CONV_H
#define VML_CONV_H

#include "luajson.h"

#define VML_CONV_MAX_DEPTH VML_LUAJSON_MAX_DEPTH
#define vml_conv_push_null vml_luajson_push_null
#define vml_conv_isnull vml_luajson_isnull
#define vml_conv_push vml_luajson_push
#define vml_conv_to_json vml_luajson_to_json
#define vml_conv_mark vml_luajson_mark
#define vml_conv_encode vml_luajson_encode
#define vml_conv_decode vml_luajson_decode

#endif
