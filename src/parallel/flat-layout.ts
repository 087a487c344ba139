/**
 * Where each trainable variable lives in one flat float32 buffer (weights or gradients shared
 * between the coordinator and its worker replicas). Built from parameterGroups() in order, so
 * two replicas of the same model agree on it; `fingerprint` lets a worker check that they do.
 */
import type {ParameterGroup} from '../train/trainable.js'

export interface FlatEntry {
  group: string
  name: string
  shape: number[]
  /** Offset in float32 elements. */
  offset: number
  size: number
}

export interface FlatLayout {
  entries: FlatEntry[]
  /** Total float32 elements. */
  total: number
}

export function flatLayout(groups: ParameterGroup[]): FlatLayout {
  const entries: FlatEntry[] = []
  let offset = 0
  for (const g of groups) {
    for (const [name, v] of g.variables) {
      entries.push({group: g.name, name, shape: [...v.shape], offset, size: v.size})
      offset += v.size
    }
  }
  return {entries, total: offset}
}

/** `group/name:shape` of every entry, in order: equal for equal layouts. */
export function layoutFingerprint(layout: FlatLayout): string {
  return layout.entries.map((e) => `${e.group}/${e.name}:${e.shape.join('x')}`).join(';')
}

export const entryKey = (group: string, name: string): string => `${group}/${name}`
