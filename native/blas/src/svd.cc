// Top-k singular triplets of a row-major float64 matrix, for PiSSA's initialisation
// (src/core/adapters/pissa-init.ts): the same method as the JavaScript fallback there, in LAPACK.
//
// G = the Gram matrix of the smaller side (WᵀW or WWᵀ, dsyrk), its k largest eigenpairs (dsyevr,
// range 'I': only those k vectors are computed), then the other side's vectors by one GEMM divided
// by σ. PiSSA keeps the well-separated top of the spectrum, where squaring W costs no accuracy that
// matters at float32 output; and computing k vectors of an n×n symmetric matrix is several times
// cheaper than a full SVD (sgesdd/dgesdd, what torch.linalg.svd runs): on 1024 × 3072 it was 0.65 s
// against 3.6 s for sgesdd on one core.
//
// OpenBLAS stays single-threaded here as everywhere in this addon (see gemm.cc), so the bytes do not
// depend on the thread count. Sign convention (largest |v| entry positive) is applied by the caller.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "kernels.h"
#include "napi-util.h"

extern "C" {
// LAPACK from OpenBLAS (Fortran ABI: trailing hidden lengths of the character arguments).
void dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n, double* a, const int* lda,
             const double* vl, const double* vu, const int* il, const int* iu, const double* abstol, int* m,
             double* w, double* z, const int* ldz, int* isuppz, double* work, const int* lwork, int* iwork,
             const int* liwork, int* info, size_t jobzLen, size_t rangeLen, size_t uploLen);
}

namespace wsblas {

napi_value TopSvd(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!getArgs(env, info, 7, argv)) return nullptr;
  double *w, *u, *s, *v;
  size_t wLen, uLen, sLen, vLen;
  int64_t rows, cols, k;
  if (!getFloat64(env, argv[0], "w", &w, &wLen) || !getInt(env, argv[1], "rows", &rows) ||
      !getInt(env, argv[2], "cols", &cols) || !getInt(env, argv[3], "k", &k) ||
      !getFloat64(env, argv[4], "u", &u, &uLen) || !getFloat64(env, argv[5], "s", &s, &sLen) ||
      !getFloat64(env, argv[6], "v", &v, &vLen)) {
    return nullptr;
  }
  const int64_t n = std::min(rows, cols);
  if (rows < 1 || cols < 1 || k < 1 || k > n || n > 46340) {
    return throwError(env, "wsflow native: topSvd needs 1 <= k <= min(rows, cols) <= 46340");
  }
  if (wLen != static_cast<size_t>(rows * cols) || uLen != static_cast<size_t>(rows * k) ||
      sLen != static_cast<size_t>(k) || vLen != static_cast<size_t>(cols * k)) {
    return throwError(env, "wsflow native: topSvd array lengths do not match rows, cols and k");
  }
  const bool useRight = rows >= cols;  // Gram over the smaller side
  const int ni = static_cast<int>(n), ki = static_cast<int>(k);
  std::vector<double> g(static_cast<size_t>(n * n));
  // row-major upper triangle = column-major lower triangle, hence uplo 'L' below
  cblas_dsyrk(CblasRowMajor, CblasUpper, useRight ? CblasTrans : CblasNoTrans, ni,
              static_cast<int>(useRight ? rows : cols), 1.0, w, static_cast<int>(cols), 0.0, g.data(), ni);

  const int il = ni - ki + 1, iu = ni;
  const double vl = 0, vu = 0, abstol = 0;
  int m = 0, infoCode = 0, lwork = -1, liwork = -1, iworkQuery = 0;
  double workQuery = 0;
  std::vector<double> values(static_cast<size_t>(n)), z(static_cast<size_t>(n * k));
  std::vector<int> isuppz(static_cast<size_t>(2 * n));
  dsyevr_("V", "I", "L", &ni, g.data(), &ni, &vl, &vu, &il, &iu, &abstol, &m, values.data(), z.data(), &ni,
          isuppz.data(), &workQuery, &lwork, &iworkQuery, &liwork, &infoCode, 1, 1, 1);
  if (infoCode == 0) {
    lwork = static_cast<int>(workQuery);
    liwork = iworkQuery;
    std::vector<double> work(static_cast<size_t>(lwork));
    std::vector<int> iwork(static_cast<size_t>(liwork));
    dsyevr_("V", "I", "L", &ni, g.data(), &ni, &vl, &vu, &il, &iu, &abstol, &m, values.data(), z.data(), &ni,
            isuppz.data(), work.data(), &lwork, iwork.data(), &liwork, &infoCode, 1, 1, 1);
  }
  if (infoCode != 0 || m != ki) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "wsflow native: LAPACK dsyevr failed (info %d, %d of %d eigenpairs)", infoCode, m,
                  ki);
    return throwError(env, buf);
  }

  // dsyevr returns ascending eigenvalues, vectors as columns of z; we want descending
  double* known = useRight ? v : u;  // [n, k] row-major
  double* other = useRight ? u : v;
  for (int j = 0; j < ki; j++) {
    const int src = ki - 1 - j;
    s[j] = std::sqrt(std::max(values[static_cast<size_t>(src)], 0.0));
    const double* col = z.data() + static_cast<size_t>(src) * static_cast<size_t>(n);
    for (int64_t i = 0; i < n; i++) known[i * k + j] = col[i];
  }
  // u = W v / σ, or v = Wᵀ u / σ
  const int64_t otherRows = useRight ? rows : cols;
  cblas_dgemm(CblasRowMajor, useRight ? CblasNoTrans : CblasTrans, CblasNoTrans, static_cast<int>(otherRows), ki,
              ni, 1.0, w, static_cast<int>(cols), known, ki, 0.0, other, ki);
  for (int j = 0; j < ki; j++) {
    for (int64_t i = 0; i < otherRows; i++) other[i * k + j] = s[j] > 0 ? other[i * k + j] / s[j] : 0.0;
  }
  return nullptr;
}

}  // namespace wsblas
