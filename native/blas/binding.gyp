{
  "targets": [
    {
      "target_name": "wsflow_blas",
      "sources": [
        "src/addon.cc",
        "src/napi-util.cc",
        "src/args.cc",
        "src/strided.cc",
        "src/parallel.cc",
        "src/gemm.cc",
        "src/copy.cc",
        "src/binary.cc",
        "src/unary.cc",
        "src/reduce.cc",
        "src/fused.cc",
        "src/attention.cc",
        "src/grad.cc",
        "src/svd.cc",
        "src/packed-linear.cc"
      ],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-ffp-contract=off", "-Wall", "-Wextra"],
      "cflags!": ["-O2"],
      "cflags_cc!": ["-O2", "-fno-exceptions"],
      "include_dirs": ["<!@(pkg-config --cflags-only-I openblas | sed 's/-I//g')"],
      "libraries": ["<!@(pkg-config --libs openblas)"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
