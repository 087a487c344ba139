{
  "targets": [
    {
      "target_name": "rtd_native",
      "sources": ["rtd_native.c"],
      "cflags": ["-O3", "-std=c11", "-ffp-contract=off", "-fno-fast-math"],
      "defines": ["NAPI_VERSION=8"],
      "libraries": ["-lopenblas", "-lm"]
    }
  ]
}
