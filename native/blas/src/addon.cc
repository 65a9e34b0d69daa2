// Module registration: the JS side (src/core/native/) checks `abiVersion` before using anything.
#include <cblas.h>
#include <node_api.h>

#include "kernels.h"

namespace wsblas {

// Bump when an exported function's signature or semantics change, so a stale build is refused. Adding a
// function does not: the JS side feature-tests new ones (topSvd, rmsNorm, swiglu, packedLinear) and falls back without them.
static const int kAbiVersion = 2;

static napi_value Init(napi_env env, napi_value exports) {
  // gemm.cc threads over tiles itself; OpenBLAS must never thread inside a tile (see there).
  openblas_set_num_threads(1);
  const napi_property_descriptor fns[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"blasConfig", nullptr, BlasConfig, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stridedCopy", nullptr, StridedCopy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gather", nullptr, Gather, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fill", nullptr, Fill, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmax", nullptr, Softmax, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsNorm", nullptr, RmsNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swiglu", nullptr, Swiglu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"ceChunk", nullptr, CeChunk, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rowScaleAdd", nullptr, RowScaleAdd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsNormGrad", nullptr, RmsNormGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swigluGrad", nullptr, SwigluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmaxGrad", nullptr, SoftmaxGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"topSvd", nullptr, TopSvd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"qkNormRope", nullptr, QkNormRope, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attention", nullptr, Attention, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionGrad", nullptr, AttentionGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  if (packedLinearSupported()) {
    const napi_property_descriptor packed[] = {
        {"packLinearWeight", nullptr, PackLinearWeight, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"packedLinearLength", nullptr, PackedLinearLength, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"packedLinear", nullptr, PackedLinear, nullptr, nullptr, nullptr, napi_default, nullptr},
    };
    napi_define_properties(env, exports, sizeof packed / sizeof packed[0], packed);
  }
  napi_value abi;
  napi_create_int32(env, kAbiVersion, &abi);
  napi_set_named_property(env, exports, "abiVersion", abi);
  return exports;
}

}  // namespace wsblas

NAPI_MODULE(NODE_GYP_MODULE_NAME, wsblas::Init)
