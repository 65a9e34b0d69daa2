// Small helpers over the C N-API: argument extraction with thrown JS errors instead of crashes.
#pragma once

#include <node_api.h>
#include <cstddef>
#include <cstdint>

namespace wsblas {

// Every helper returns false after throwing a JS exception; callers return nullptr then.
bool getArgs(napi_env env, napi_callback_info info, size_t expected, napi_value* argv);
bool getFloat32(napi_env env, napi_value v, const char* name, float** data, size_t* length);
bool getFloat64(napi_env env, napi_value v, const char* name, double** data, size_t* length);
bool getInt32Array(napi_env env, napi_value v, const char* name, int32_t** data, size_t* length);
bool getInt(napi_env env, napi_value v, const char* name, int64_t* out);
bool getDouble(napi_env env, napi_value v, const char* name, double* out);
bool getBool(napi_env env, napi_value v, const char* name, bool* out);
napi_value throwError(napi_env env, const char* message);

}  // namespace wsblas
