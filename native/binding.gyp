{
  "targets": [
    {
      "target_name": "rtd_native",
      "sources": ["rtd_native.c", "rtd_node_kernels.c", "rtd_pool.c", "rtd_sampling.c"],
      "cflags": ["-O3", "-std=gnu11", "-ffp-contract=off", "-fno-fast-math", "-fno-math-errno", "<!@(node -p \"process.env.RTD_OPENMP_FLAGS || ''\")", "<!@(node -p \"process.env.RTD_MVEC_CFLAGS || ''\")"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lopenblas", "<!@(node -p \"process.env.RTD_MVEC_LIBS || ''\")", "-lm", "<!@(node -p \"process.env.RTD_OPENMP_FLAGS || ''\")"]
    }
  ]
}
