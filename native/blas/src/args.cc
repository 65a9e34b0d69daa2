#include "args.h"

#include <string>

#include "napi-util.h"

namespace wsblas {

bool getIntVector(napi_env env, napi_value v, const char* name, std::vector<int64_t>* out) {
  double* data;
  size_t len;
  if (!getFloat64(env, v, name, &data, &len)) return false;
  out->resize(len);
  for (size_t i = 0; i < len; i++) {
    const double d = data[i];
    if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d))) {
      std::string msg = std::string("wsflow native: '") + name + "' must hold non-negative integers";
      napi_throw_range_error(env, "WSFLOW_NATIVE", msg.c_str());
      return false;
    }
    (*out)[i] = static_cast<int64_t>(d);
  }
  return true;
}

}  // namespace wsblas
