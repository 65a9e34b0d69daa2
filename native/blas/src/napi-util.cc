#include "napi-util.h"

#include <cstdio>
#include <string>

namespace wsblas {

napi_value throwError(napi_env env, const char* message) {
  napi_throw_error(env, "WSFLOW_NATIVE", message);
  return nullptr;
}

static bool fail(napi_env env, const char* name, const char* what) {
  std::string msg = std::string("wsflow native: argument '") + name + "' " + what;
  napi_throw_type_error(env, "WSFLOW_NATIVE", msg.c_str());
  return false;
}

bool getArgs(napi_env env, napi_callback_info info, size_t expected, napi_value* argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) {
    napi_throw_error(env, "WSFLOW_NATIVE", "wsflow native: cannot read arguments");
    return false;
  }
  if (argc != expected) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "wsflow native: expected %zu arguments, got %zu", expected, argc);
    napi_throw_type_error(env, "WSFLOW_NATIVE", buf);
    return false;
  }
  return true;
}

static bool getTyped(napi_env env, napi_value v, const char* name, napi_typedarray_type want,
                     void** data, size_t* length, const char* wantName) {
  bool isTyped = false;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok || !isTyped) {
    return fail(env, name, (std::string("must be a ") + wantName).c_str());
  }
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok) {
    return fail(env, name, "is unreadable");
  }
  if (type != want) return fail(env, name, (std::string("must be a ") + wantName).c_str());
  return true;
}

bool getFloat32(napi_env env, napi_value v, const char* name, float** data, size_t* length) {
  return getTyped(env, v, name, napi_float32_array, reinterpret_cast<void**>(data), length,
                  "Float32Array");
}

bool getFloat64(napi_env env, napi_value v, const char* name, double** data, size_t* length) {
  return getTyped(env, v, name, napi_float64_array, reinterpret_cast<void**>(data), length,
                  "Float64Array");
}

bool getInt32Array(napi_env env, napi_value v, const char* name, int32_t** data, size_t* length) {
  return getTyped(env, v, name, napi_int32_array, reinterpret_cast<void**>(data), length,
                  "Int32Array");
}

bool getInt(napi_env env, napi_value v, const char* name, int64_t* out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) return fail(env, name, "must be a number");
  if (d != static_cast<double>(static_cast<int64_t>(d)) || d < 0) {
    return fail(env, name, "must be a non-negative integer");
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool getDouble(napi_env env, napi_value v, const char* name, double* out) {
  if (napi_get_value_double(env, v, out) != napi_ok) return fail(env, name, "must be a number");
  return true;
}

bool getBool(napi_env env, napi_value v, const char* name, bool* out) {
  if (napi_get_value_bool(env, v, out) != napi_ok) return fail(env, name, "must be a boolean");
  return true;
}

}  // namespace wsblas
