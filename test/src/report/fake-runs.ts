/** Run directories as `rtd run` leaves them, written directly (no training): for report and diff tests. */
import * as fs from 'node:fs'
import * as path from 'node:path'

import {stringify} from 'yaml'

export interface FakeRun {
  dir: string
  sharing: string
}

/** A run of `steps` steps with an evaluation every `evalEvery` (and a final one), loss curves that depend on `offset`. */
export function writeFakeRun(p: {parent: string; name: string; sharing: 'gdes' | 'es' | 'nes'; steps: number; evalEvery: number; offset?: number; state?: string; shardsKey?: string; backend?: string; samples?: number}): FakeRun {
  const dir = path.join(p.parent, `${p.name}-20250101-000000`)
  fs.mkdirSync(dir, {recursive: true})
  const resolved = {name: p.name, seed: 42, runtime: {backend: p.backend ?? 'wasm'}, model: {plugin: 'gdes', embedding_sharing: p.sharing, hidden_size: 32}, loss: {lambda: 50}, schedule: {max_steps: p.steps, batch_size: 8}}
  fs.writeFileSync(path.join(dir, 'resolved.yaml'), `# resolved\n${stringify(resolved)}`)
  fs.writeFileSync(path.join(dir, 'environment.json'), JSON.stringify({rtd: '0.1.0', node: 'v20.19.0', backend: p.backend ?? 'wasm', argv: ['run', p.name], cpus: 2}))
  fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify({state: p.state ?? 'completed', pid: 1, started: '2025-01-01T00:00:00Z'}))
  const o = p.offset ?? 0
  const lines: string[] = [JSON.stringify({time: 't', stage: 'data', cache_hit: false, train_sequences: 10, shards_key: p.shardsKey ?? 'abc123def456'})]
  for (let s = 1; s <= p.steps; s++) {
    lines.push(JSON.stringify({time: 't', type: 'train', step: s, epoch: 1, loss: 10 / s + o, loss_mlm: 5 / s + o, loss_rtd: 0.1 / s + o / 50, lambda: 50, mlm_weight: 1, lr: 1e-4 * 0.99 ** s, grad_norm: 2 / s, tokens_per_s: 1000 + s}))
    if (s % p.evalEvery === 0 || s === p.steps) {
      const final = s === p.steps
      lines.push(JSON.stringify({time: 't', type: 'eval', step: s, epoch: 1, ...(final ? {final: true} : {}), disc_loss: 0.5 - s / 1000 + o, disc_auc: 0.7 + s / 1000 - o, disc_accuracy: 0.8, disc_accuracy_no_special: 0.75, mlm_loss: 4 - s / 100, disc_tokens: 1000, emb_cos_mean: 1 - s / 500, emb_cos_median: 1 - s / 400, emb_norm_g: 10, emb_norm_d: 10 + s / 100, emb_grad_mlm_g: 0.5, emb_grad_rtd_g: p.sharing === 'gdes' ? 0 : 0.2, ...(final ? {disc_auc_std: 0.004, draws: 3} : {})}))
    }
  }
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`)
  const tokens = (k: number) => [
    {o: '[CLS]', p: 0.01},
    {o: 'the', m: 1 as const, s: 'a', p: 0.91},
    {o: 'cat', p: 0.05 * k},
    {o: 'sat', m: 1 as const, p: 0.3},
    {o: '<b>', p: 0.2},
    {o: '[SEP]', p: 0.02},
  ]
  const count = p.samples ?? 6
  fs.writeFileSync(path.join(dir, 'samples.json'), JSON.stringify({step: p.steps, seed: 42, sequences: Array.from({length: count}, (_, k) => tokens(k + 1))}))
  return {dir, sharing: p.sharing}
}
