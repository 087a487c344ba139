#!/usr/bin/env node
// Builds the optional native kernels (rtd_native.node) with node-gyp against the system OpenBLAS.
// Never fails the install: without a compiler, OpenBLAS or node-gyp it prints why and exits 0;
// rtd then runs on plain wasm and says "native kernels off: <why>" once.
// RTD_NATIVE=off skips the build.
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const say = (msg) => console.log(`rtd native kernels: ${msg}`)

function skip(why) {
  say(`not built (${why}); rtd will run on plain wasm`)
  process.exit(0)
}

if (process.env.RTD_NATIVE === 'off') skip('RTD_NATIVE=off')
if (process.platform === 'win32') skip('Windows builds are not supported')

// Node headers: use local ones so node-gyp never downloads (offline installs).
const nodedir = process.env.npm_config_nodedir ?? path.resolve(path.dirname(process.execPath), '..')
if (!fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) {
  skip(`Node headers not found under ${nodedir}/include/node (set npm_config_nodedir)`)
}

// A compiler and OpenBLAS: one tiny probe compile gives a clear reason if either is missing.
const cc = process.env.CC ?? 'cc'
const probe = spawnSync(cc, ['-x', 'c', '-', '-o', '/dev/null', '-lopenblas'], {
  input: '#include <cblas.h>\nint main(void){float a=1,b=1,c=0;cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,1,1,1,1,&a,1,&b,1,0,&c,1);openblas_set_num_threads(1);return 0;}\n',
  encoding: 'utf8',
})
if (probe.error) skip(`no C compiler (${cc}: ${probe.error.message})`)
if (probe.status !== 0) skip(`OpenBLAS not usable (install libopenblas-dev): ${probe.stderr.trim().split('\n')[0]}`)

// OpenMP threads the native backend's loops over the cores; without it they run on one thread.
const omp = spawnSync(cc, ['-x', 'c', '-', '-o', '/dev/null', '-fopenmp'], {
  input: '#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n',
  encoding: 'utf8',
})
const openmpFlags = !omp.error && omp.status === 0 ? '-fopenmp' : ''
if (openmpFlags === '') say('OpenMP not available: the native backend\'s loops will run on one thread')

// glibc's libmvec (x86-64): vector erf and exp for GELU and softmax; without it the scalar ones.
const mvec = process.arch === 'x64'
  ? spawnSync(cc, ['-x', 'c', '-', '-o', '/dev/null', '-lmvec', '-lm'], {
      input: '#include <emmintrin.h>\n__m128 _ZGVbN4v_erff(__m128);\n__m128 _ZGVbN4v_expf(__m128);\nint main(void){__m128 x=_mm_set1_ps(0.5f);x=_ZGVbN4v_erff(_ZGVbN4v_expf(x));return _mm_cvtss_f32(x) > 0 ? 0 : 1;}\n',
      encoding: 'utf8',
    })
  : undefined
const hasMvec = mvec !== undefined && !mvec.error && mvec.status === 0

function findNodeGyp() {
  const candidates = [
    path.resolve(here, '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    process.env.npm_config_node_gyp,
    path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ]
  const npmRoot = spawnSync('npm', ['root', '-g'], {encoding: 'utf8'})
  if (npmRoot.status === 0) candidates.push(path.join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  return candidates.find((p) => p !== undefined && fs.existsSync(p))
}
const nodeGyp = findNodeGyp()
if (nodeGyp === undefined) skip('node-gyp not found (neither in node_modules nor bundled with npm)')

const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], {
  cwd: here,
  stdio: process.env.RTD_NATIVE_VERBOSE ? 'inherit' : 'pipe',
  encoding: 'utf8',
  env: {...process.env, npm_config_nodedir: nodedir, RTD_OPENMP_FLAGS: openmpFlags, RTD_MVEC_CFLAGS: hasMvec ? '-DRTD_HAVE_MVEC' : '', RTD_MVEC_LIBS: hasMvec ? '-lmvec' : ''},
})
if (result.status !== 0) {
  const tail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-5).join(' | ')
  skip(`node-gyp failed: ${tail}`)
}
say(`built ${path.join(here, 'build', 'Release', 'rtd_native.node')}`)
