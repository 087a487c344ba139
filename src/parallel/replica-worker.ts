/**
 * A data-parallel replica in a worker thread: its own TensorFlow.js backend (initBackend) and
 * its own model, built by the module the coordinator's replicaRecipe() names. On `compute` it
 * optionally loads the coordinator's weights from the shared weights buffer, computes its rows'
 * share of the batch's gradients (ShardableTrainable.computeShare) and writes them into its
 * shared gradient buffer.
 */
import {parentPort} from 'node:worker_threads'
import * as tf from '#tfjs'
import {initBackend} from '../runtime/backend.js'
import {entryKey, flatLayout, layoutFingerprint, type FlatLayout} from './flat-layout.js'
import type {ReplicaModule, ShardableTrainable} from './shardable.js'
import type {FromWorker, ReplicaSpec, ToWorker} from './worker-protocol.js'

interface Replica {
  spec: ReplicaSpec
  trainable: ShardableTrainable
  layout: FlatLayout
  weights: Float32Array
  grads: Float32Array
}

let replica: Replica | undefined
const port = parentPort
if (port === null) throw new Error('replica-worker.ts must run in a worker thread')
const send = (m: FromWorker): void => port.postMessage(m)

async function init(spec: ReplicaSpec): Promise<void> {
  const backend = await initBackend({backend: spec.runtime.backend, native: spec.runtime.native, threads: spec.runtime.threads})
  const factory = (await import(spec.replica.module)) as ReplicaModule
  const trainable = await factory.createReplica(spec.replica.options)
  const layout = flatLayout(trainable.parameterGroups())
  const fp = layoutFingerprint(layout)
  if (fp !== spec.fingerprint) throw new Error(`worker replica's parameters differ from the coordinator's (${fp.slice(0, 200)} vs ${spec.fingerprint.slice(0, 200)})`)
  replica = {spec, trainable, layout, weights: new Float32Array(spec.weights), grads: new Float32Array(spec.grads)}
  send({type: 'ready', backend})
}

function loadWeights(r: Replica): void {
  const byKey = new Map<string, tf.Variable>()
  for (const g of r.trainable.parameterGroups()) for (const [n, v] of g.variables) byKey.set(entryKey(g.name, n), v)
  for (const e of r.layout.entries) {
    const v = byKey.get(entryKey(e.group, e.name))!
    // wasm copies the values into its heap; the cpu backend would keep a view of the shared buffer
    const view = r.weights.subarray(e.offset, e.offset + e.size)
    const t = tf.tensor(tf.getBackend() === 'wasm' ? view : view.slice(), e.shape, 'float32')
    v.assign(t)
    t.dispose()
  }
}

async function compute(r: Replica, m: Extract<ToWorker, {type: 'compute'}>): Promise<void> {
  const t0 = performance.now()
  if (m.sync) loadWeights(r)
  const res = await r.trainable.computeShare({batch: m.batch, masked: m.masked, rowOffset: m.rowOffset, mlmScale: m.mlmScale, rtdScale: m.rtdScale}, m.ctx)
  const offsets = new Map(r.layout.entries.map((e) => [entryKey(e.group, e.name), e]))
  const present: string[] = []
  for (const [g, grads] of res.grads) {
    for (const [n, t] of grads) {
      const e = offsets.get(entryKey(g, n))
      if (e !== undefined && t.size === e.size) {
        r.grads.set(t.dataSync() as Float32Array, e.offset)
        present.push(entryKey(g, n))
      }
      t.dispose()
    }
  }
  send({type: 'computed', id: m.id, losses: res.losses, tokens: res.tokens, present, ms: performance.now() - t0})
}

port.on('message', (m: ToWorker) => {
  void (async () => {
    try {
      if (m.type === 'init') await init(m.spec)
      else if (m.type === 'compute') {
        if (replica === undefined) throw new Error('compute before init')
        await compute(replica, m)
      }
    } catch (err) {
      const e = err as Error
      send({type: 'error', id: m.type === 'compute' ? m.id : undefined, message: e.message, stack: e.stack})
    }
  })()
})
