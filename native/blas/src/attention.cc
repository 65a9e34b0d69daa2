// The attention of a Qwen3 block in two kernels, each doing in one pass what the model's composed ops do
// in many (src/core/qwen3/model.ts): QK-norm + RoPE + the move to head-major layout, then scores, scale,
// mask, softmax, context and the merge back to token-major layout. Every step rounds where the composed
// native ops round and the two products are the same sgemm calls the batched Gemm export would make
// (gemm.h), so the output bits equal the composed path's. Work is split into units (a row of tokens, or
// a KV head of one sequence) computed whole by one thread: the bits do not depend on the thread count.
// binding.gyp builds with -ffp-contract=off: a fused multiply-add would skip the roundings the composed
// ops make between their multiplies and adds (it did, in the RoPE rotation).
#include <cstdio>
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "napi-util.h"
#include "parallel.h"
#include "row-kernels.h"

namespace wsblas {

namespace {

inline float mulF(double a, double b) { return static_cast<float>(a * b); }

}  // namespace

// out [B, heads, S, D] = rope(rmsNorm(x viewed as [B, S, heads, D]) transposed to head-major), with
// half-split (NeoX) rotation by cos/sin [cosRows, S, D/2], cosRows 1 (shared positions) or B.
napi_value QkNormRope(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!getArgs(env, info, 8, argv)) return nullptr;
  float *x, *w, *cs, *sn, *out;
  size_t xLen, wLen, csLen, snLen, outLen;
  int64_t batch, seq;
  double eps;
  if (!getFloat32(env, argv[0], "x", &x, &xLen) || !getFloat32(env, argv[1], "weight", &w, &wLen) ||
      !getFloat32(env, argv[2], "cos", &cs, &csLen) || !getFloat32(env, argv[3], "sin", &sn, &snLen) ||
      !getInt(env, argv[4], "batch", &batch) || !getInt(env, argv[5], "seq", &seq) ||
      !getDouble(env, argv[6], "eps", &eps) || !getFloat32(env, argv[7], "out", &out, &outLen)) {
    return nullptr;
  }
  const int64_t d = static_cast<int64_t>(wLen), half = d / 2, rows = batch * seq;
  if (d <= 0 || d % 2 != 0 || rows <= 0 || xLen % static_cast<size_t>(rows * d) != 0 || outLen < xLen) {
    return throwError(env, "wsflow native qkNormRope: x must be [batch*seq, heads*headDim] with an even headDim");
  }
  const int64_t heads = static_cast<int64_t>(xLen) / (rows * d);
  const int64_t tableRows = static_cast<int64_t>(csLen) / (seq * half);
  if (csLen != snLen || (tableRows != 1 && tableRows != batch) || static_cast<int64_t>(csLen) != tableRows * seq * half) {
    return throwError(env, "wsflow native qkNormRope: cos/sin must be [1 or batch, seq, headDim/2]");
  }
  const double epsF = static_cast<float>(eps);
  parallelFor(rows, std::max<int64_t>(1, kGrain / (heads * d)), [&](int64_t r0, int64_t r1) {
    std::vector<float> normed(static_cast<size_t>(d));
    for (int64_t r = r0; r < r1; r++) {
      const int64_t b = r / seq, s = r % seq;
      const float* c = cs + ((tableRows == 1 ? 0 : b) * seq + s) * half;
      const float* si = sn + ((tableRows == 1 ? 0 : b) * seq + s) * half;
      for (int64_t h = 0; h < heads; h++) {
        rmsNormRow(x + (r * heads + h) * d, w, d, epsF, normed.data());
        float* o = out + ((b * heads + h) * seq + s) * d;
        for (int64_t i = 0; i < half; i++) {
          const float x1 = normed[i], x2 = normed[i + half];
          o[i] = static_cast<float>(static_cast<double>(mulF(x1, c[i])) - mulF(x2, si[i]));
          o[i + half] = static_cast<float>(static_cast<double>(mulF(x2, c[i])) + mulF(x1, si[i]));
        }
      }
    }
  });
  return nullptr;
}

// out [B*S, H*D] = softmax(q·kᵀ·scale + mask)·v merged token-major, for q [B, H, S, D], k and v
// [B, KVH, T, D] (query head h reads KV head h / (H/KVH)), mask [maskBatch, 1, S, T] additive.
napi_value Attention(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  if (!getArgs(env, info, 10, argv)) return nullptr;
  float *q, *k, *v, *mask, *out;
  size_t qLen, kLen, vLen, maskLen, outLen;
  int64_t batch, heads, kvHeads, seq;
  double scaleArg;
  if (!getFloat32(env, argv[0], "q", &q, &qLen) || !getFloat32(env, argv[1], "k", &k, &kLen) ||
      !getFloat32(env, argv[2], "v", &v, &vLen) || !getFloat32(env, argv[3], "mask", &mask, &maskLen) ||
      !getInt(env, argv[4], "batch", &batch) || !getInt(env, argv[5], "heads", &heads) ||
      !getInt(env, argv[6], "kvHeads", &kvHeads) || !getInt(env, argv[7], "seq", &seq) ||
      !getDouble(env, argv[8], "scale", &scaleArg) || !getFloat32(env, argv[9], "out", &out, &outLen)) {
    return nullptr;
  }
  if (batch <= 0 || heads <= 0 || kvHeads <= 0 || seq <= 0 || heads % kvHeads != 0 ||
      qLen % static_cast<size_t>(batch * heads * seq) != 0 || kLen != vLen) {
    return throwError(env, "wsflow native attention: q must be [batch, heads, seq, headDim], heads a multiple of kvHeads");
  }
  const int64_t d = static_cast<int64_t>(qLen) / (batch * heads * seq);
  const int64_t total = d == 0 ? 0 : static_cast<int64_t>(kLen) / (batch * kvHeads * d);
  const int64_t maskBatch = total == 0 ? 0 : static_cast<int64_t>(maskLen) / (seq * total);
  if (d == 0 || total == 0 || static_cast<int64_t>(kLen) != batch * kvHeads * total * d ||
      (maskBatch != 1 && maskBatch != batch) || static_cast<int64_t>(maskLen) != maskBatch * seq * total ||
      outLen < qLen) {
    char msg[200];
    std::snprintf(msg, sizeof msg,
                  "wsflow native attention: k/v must be [batch, kvHeads, T, %lld] and mask [1 or batch, 1, seq, T]",
                  static_cast<long long>(d));
    return throwError(env, msg);
  }
  const int64_t nRep = heads / kvHeads, m = nRep * seq, units = batch * kvHeads;
  const double scale = static_cast<float>(scaleArg);  // the composed op multiplies by a float32 scalar
  auto unit = [&](int64_t u) {
    const int64_t b = u / kvHeads, g = u % kvHeads;
    std::vector<float> kT(static_cast<size_t>(d * total)), scores(static_cast<size_t>(m * total)),
        ctx(static_cast<size_t>(m * d));
    const float* ku = k + u * total * d;
    for (int64_t t = 0; t < total; t++)
      for (int64_t i = 0; i < d; i++) kT[static_cast<size_t>(i * total + t)] = ku[t * d + i];
    gemmAsBatchItem(units, q + u * m * d, kT.data(), scores.data(), m, total, d, false, false);
    for (int64_t i = 0; i < m; i++) {
      const int64_t s = i % seq;
      const float* maskRow = mask + ((maskBatch == 1 ? 0 : b) * seq + s) * total;
      float* row = scores.data() + i * total;
      for (int64_t t = 0; t < total; t++) {
        const float scaled = static_cast<float>(row[t] * scale);
        row[t] = static_cast<float>(static_cast<double>(scaled) + maskRow[t]);
      }
      softmaxRow(row, total, row);
    }
    gemmAsBatchItem(units, scores.data(), v + u * total * d, ctx.data(), m, d, total, false, false);
    for (int64_t i = 0; i < m; i++) {
      const int64_t head = g * nRep + i / seq, s = i % seq;
      const float* src = ctx.data() + i * d;
      float* dst = out + ((b * seq + s) * heads + head) * d;
      for (int64_t j = 0; j < d; j++) dst[j] = src[j];
    }
  };
  parallelTasks(units, unit);
  return nullptr;
}

// The gradient of Attention above w.r.t. q, k and v, for dOut [B*S, H*D] (token-major, as Attention's out).
// Per unit (a KV head of one sequence), computed whole by one thread: the probabilities p are recomputed
// exactly as the forward makes them (scores, scale, mask, softmax: the same roundings), then
// dV = pᵀ·dO, dP = dO·vᵀ, dS = p ⊙ (dP − Σ dP ⊙ p) (SoftmaxGrad's arithmetic), dQ = (dS·k)·scale,
// dK = (dSᵀ·q)·scale: what the composed tfjs backward computes (src/core/native/attention-ops.ts), without
// its seven [B·KVH, M, T] tensors. dq is [B, H, S, D]; dk and dv [B, KVH, T, D].
napi_value AttentionGrad(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  if (!getArgs(env, info, 13, argv)) return nullptr;
  float *q, *k, *v, *mask, *dOut, *dq, *dk, *dv;
  size_t qLen, kLen, vLen, maskLen, dOutLen, dqLen, dkLen, dvLen;
  int64_t batch, heads, kvHeads, seq;
  double scaleArg;
  if (!getFloat32(env, argv[0], "q", &q, &qLen) || !getFloat32(env, argv[1], "k", &k, &kLen) ||
      !getFloat32(env, argv[2], "v", &v, &vLen) || !getFloat32(env, argv[3], "mask", &mask, &maskLen) ||
      !getFloat32(env, argv[4], "dOut", &dOut, &dOutLen) ||
      !getInt(env, argv[5], "batch", &batch) || !getInt(env, argv[6], "heads", &heads) ||
      !getInt(env, argv[7], "kvHeads", &kvHeads) || !getInt(env, argv[8], "seq", &seq) ||
      !getDouble(env, argv[9], "scale", &scaleArg) || !getFloat32(env, argv[10], "dq", &dq, &dqLen) ||
      !getFloat32(env, argv[11], "dk", &dk, &dkLen) || !getFloat32(env, argv[12], "dv", &dv, &dvLen)) {
    return nullptr;
  }
  if (batch <= 0 || heads <= 0 || kvHeads <= 0 || seq <= 0 || heads % kvHeads != 0 ||
      qLen % static_cast<size_t>(batch * heads * seq) != 0 || kLen != vLen) {
    return throwError(env, "wsflow native attentionGrad: q must be [batch, heads, seq, headDim], heads a multiple of kvHeads");
  }
  const int64_t d = static_cast<int64_t>(qLen) / (batch * heads * seq);
  const int64_t total = d == 0 ? 0 : static_cast<int64_t>(kLen) / (batch * kvHeads * d);
  const int64_t maskBatch = total == 0 ? 0 : static_cast<int64_t>(maskLen) / (seq * total);
  if (d == 0 || total == 0 || static_cast<int64_t>(kLen) != batch * kvHeads * total * d ||
      (maskBatch != 1 && maskBatch != batch) || static_cast<int64_t>(maskLen) != maskBatch * seq * total ||
      dOutLen != qLen || dqLen < qLen || dkLen < kLen || dvLen < kLen) {
    return throwError(env, "wsflow native attentionGrad: k/v must be [batch, kvHeads, T, headDim], mask [1 or batch, 1, seq, T], dOut like q");
  }
  const int64_t nRep = heads / kvHeads, m = nRep * seq, units = batch * kvHeads;
  const double scale = static_cast<float>(scaleArg);
  const float scaleF = static_cast<float>(scaleArg);
  auto unit = [&](int64_t u) {
    const int64_t b = u / kvHeads, g = u % kvHeads;
    std::vector<float> p(static_cast<size_t>(m * total)), dP(static_cast<size_t>(m * total)),
        dO(static_cast<size_t>(m * d));
    const float* qu = q + u * m * d;
    const float* ku = k + u * total * d;
    const float* vu = v + u * total * d;
    gemmAsBatchItem(units, qu, ku, p.data(), m, total, d, false, true);
    for (int64_t i = 0; i < m; i++) {
      const int64_t s = i % seq;
      const float* maskRow = mask + ((maskBatch == 1 ? 0 : b) * seq + s) * total;
      float* row = p.data() + i * total;
      for (int64_t t = 0; t < total; t++) {
        const float scaled = static_cast<float>(row[t] * scale);
        row[t] = static_cast<float>(static_cast<double>(scaled) + maskRow[t]);
      }
      softmaxRow(row, total, row);
    }
    for (int64_t i = 0; i < m; i++) {
      const int64_t head = g * nRep + i / seq, s = i % seq;
      const float* src = dOut + ((b * seq + s) * heads + head) * d;
      float* dst = dO.data() + i * d;
      for (int64_t j = 0; j < d; j++) dst[j] = src[j];
    }
    gemmAsBatchItem(units, p.data(), dO.data(), dv + u * total * d, total, d, m, true, false);
    gemmAsBatchItem(units, dO.data(), vu, dP.data(), m, total, d, false, true);
    for (int64_t i = 0; i < m; i++) {
      const float* pr = p.data() + i * total;
      float* dr = dP.data() + i * total;
      double dot = 0.0;
      for (int64_t t = 0; t < total; t++) dot += static_cast<double>(dr[t]) * pr[t];
      const float df = static_cast<float>(dot);
      for (int64_t t = 0; t < total; t++) dr[t] = pr[t] * (dr[t] - df);
    }
    float* dqu = dq + u * m * d;
    float* dku = dk + u * total * d;
    gemmAsBatchItem(units, dP.data(), ku, dqu, m, d, total, false, false);
    gemmAsBatchItem(units, dP.data(), qu, dku, total, d, m, true, false);
    for (int64_t i = 0; i < m * d; i++) dqu[i] *= scaleF;
    for (int64_t i = 0; i < total * d; i++) dku[i] *= scaleF;
  };
  parallelTasks(units, unit);
  return nullptr;
}

}  // namespace wsblas
