/**
 * A Hugging Face dataset split as local Parquet files, through src/hub (HF cache layout,
 * HF_TOKEN / HF_ENDPOINT / HF_HUB_OFFLINE, offline resolution of refs from the cache).
 *
 * Where a split's Parquet files live on the hub:
 * - in the repo itself (main branch): `<config>/<split>-00000-of-00001.parquet`
 *   (stanfordnlp/imdb: `plain_text/unsupervised-00000-of-00001.parquet`), `data/<split>-*.parquet`,
 *   `<config>/<split>/*.parquet` or `<split>/*.parquet`;
 * - in the auto-converted branch `refs/convert/parquet`: `<config>/<split>/0000.parquet`
 *   (older conversions: `<config>/<dataset>-<split>.parquet`).
 * We try the repo's own files first, then the converted branch.
 */
import {ConfigError, RtdError, RuntimeFailure} from '../errors.js'

export interface HubDownload {
  snapshotDir: string
  revision: string
  files: string[]
}

/** Signature of src/hub's downloadRepoFiles (injected so tests and the plugin can supply it). */
export type DownloadRepoFiles = (params: {
  repo: string
  repoType: 'model' | 'dataset'
  revision?: string
  files?: string[]
  include?: string[]
  endpoint?: string
  token?: string
  cacheDir?: string
  offline?: boolean
}) => Promise<HubDownload>

/** Glob patterns (relative to the repo root) that may hold `split` of `config`. */
export function splitPatterns(params: {config?: string; split: string; dataset: string}): string[] {
  const {config, split, dataset} = params
  const c = config ?? '*'
  return [
    `${c}/${split}-*.parquet`,
    `${c}/${split}.parquet`,
    `${c}/${split}/*.parquet`,
    `${c}/${dataset}-${split}.parquet`,
    ...(config ? [] : [`data/${split}-*.parquet`, `${split}/*.parquet`, `${split}-*.parquet`]),
  ]
}

/** The files of a listing that belong to the split (a pure function of the listing). */
export function selectSplitFiles(params: {files: string[]; config?: string; split: string; dataset: string}): string[] {
  const res = splitPatterns(params).map(globRe)
  return params.files.filter((f) => f.endsWith('.parquet') && res.some((r) => r.test(f))).sort()
}

function globRe(g: string): RegExp {
  return new RegExp('^' + g.split('*').map((s) => s.replace(/[.+^${}()|[\]\\?]/g, '\\$&')).join('[^/]*') + '$')
}

export async function downloadHubSplit(params: {
  download: DownloadRepoFiles
  repo: string
  config?: string
  split: string
  revision?: string
  cacheDir?: string
}): Promise<{dir: string; files: string[]; revision: string; branch: string}> {
  const dataset = params.repo.split('/').pop() ?? params.repo
  const include = splitPatterns({config: params.config, split: params.split, dataset})
  const branches = params.revision ? [params.revision] : ['main', 'refs/convert/parquet']
  const tried: string[] = []
  for (const branch of branches) {
    let got: HubDownload
    try {
      got = await params.download({repo: params.repo, repoType: 'dataset', revision: branch, include, cacheDir: params.cacheDir})
    } catch (error) {
      if (error instanceof RtdError) throw error
      throw new RuntimeFailure(`could not fetch dataset ${params.repo}@${branch}: ${(error as Error).message}`, {
        code: 'data.hub_failed',
        cause: error,
        suggestions: [
          'Check the dataset name and your network; set HF_TOKEN for gated or private datasets.',
          'To work offline, fetch the dataset once while online (HF_HUB_OFFLINE=1 then uses the cache).',
        ],
      })
    }
    const files = selectSplitFiles({files: got.files, config: params.config, split: params.split, dataset})
    if (files.length > 0) return {dir: got.snapshotDir, files, revision: got.revision, branch}
    tried.push(`${branch} (${got.files.length} matching files)`)
  }
  throw new ConfigError(
    `dataset ${params.repo} has no Parquet files for split "${params.split}"${params.config ? ` of config "${params.config}"` : ''} (looked in ${tried.join(', ')}).`,
    {
      code: 'data.split_missing',
      suggestions: ['Check `data.source.split` and `data.source.config` against the dataset card on the hub.'],
    },
  )
}
