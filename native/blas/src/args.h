// Parsing of the shape/stride arguments shared by the layout-style kernels.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <vector>

namespace wsblas {

// A Float64Array of non-negative integers (shapes, strides, offsets: exact in a double up to 2^53).
bool getIntVector(napi_env env, napi_value v, const char* name, std::vector<int64_t>* out);

}  // namespace wsblas
