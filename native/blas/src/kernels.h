// Entry points the addon exports; each is implemented in the file named in the comment.
#pragma once

#include <node_api.h>

namespace wsblas {

// gemm.cc
napi_value Gemm(napi_env env, napi_callback_info info);
napi_value SetThreads(napi_env env, napi_callback_info info);
napi_value GetThreads(napi_env env, napi_callback_info info);
napi_value BlasConfig(napi_env env, napi_callback_info info);

// copy.cc
napi_value StridedCopy(napi_env env, napi_callback_info info);
napi_value Fill(napi_env env, napi_callback_info info);
napi_value Gather(napi_env env, napi_callback_info info);

// binary.cc
napi_value Binary(napi_env env, napi_callback_info info);

// unary.cc
napi_value Unary(napi_env env, napi_callback_info info);

// reduce.cc
napi_value Reduce(napi_env env, napi_callback_info info);
napi_value Softmax(napi_env env, napi_callback_info info);

// fused.cc
napi_value RmsNorm(napi_env env, napi_callback_info info);
napi_value Swiglu(napi_env env, napi_callback_info info);

// attention.cc
napi_value QkNormRope(napi_env env, napi_callback_info info);
napi_value Attention(napi_env env, napi_callback_info info);
napi_value AttentionGrad(napi_env env, napi_callback_info info);
// grad.cc
napi_value CeChunk(napi_env env, napi_callback_info info);
napi_value RowScaleAdd(napi_env env, napi_callback_info info);
napi_value RmsNormGrad(napi_env env, napi_callback_info info);
napi_value SwigluGrad(napi_env env, napi_callback_info info);
napi_value SoftmaxGrad(napi_env env, napi_callback_info info);

// svd.cc
napi_value TopSvd(napi_env env, napi_callback_info info);

// packed-linear.cc (exported only where packedLinearSupported(): built with AVX2 and FMA)
bool packedLinearSupported();
napi_value PackLinearWeight(napi_env env, napi_callback_info info);
napi_value PackedLinearLength(napi_env env, napi_callback_info info);
napi_value PackedLinear(napi_env env, napi_callback_info info);

}  // namespace wsblas
