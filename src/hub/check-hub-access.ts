/**
 * rtd run's pre-flight for what a stage will read from the hub: the metadata request that tells a
 * missing or wrong HF_TOKEN (401/403) or a wrong name (404), or, offline (HF_HUB_OFFLINE=1 or an
 * unreachable hub), whether the cache holds the files. Nothing is downloaded. Each failure is a
 * ConfigError (exit 2) naming the pipeline option it came from, before the run directory exists.
 */
import {ConfigError, RtdError} from '../errors.js'
import {downloadDatasetParquet} from './download-dataset-parquet.js'
import {downloadRepoFiles, type DownloadRepoFilesOptions} from './download-repo-files.js'
import type {HubSettingsOptions} from './hub-settings.js'

/** What a failed check is reported against: the pipeline file and the option (e.g. `data.source.hub`). */
export interface HubCheckSite {
  /** Where the option was written, e.g. `pipelines/imdb.yaml`. */
  file: string
  /** Dotted option path, e.g. `model.from`. */
  option: string
}

/** Model repo `repo` at `revision` (default main) is readable and has files `include` accepts. */
export async function checkHubModel(opts: HubCheckSite & HubSettingsOptions & Pick<DownloadRepoFilesOptions, 'repo' | 'revision' | 'include' | 'fetch'>): Promise<void> {
  const {file, option, ...rest} = opts
  await located({file, option}, () => downloadRepoFiles({...rest, repoType: 'model', checkOnly: true}))
}

/** Split `split` of dataset `repo` is readable (its own Parquet files or the converted branch). */
export async function checkHubDatasetSplit(opts: HubCheckSite & HubSettingsOptions & {repo: string; config?: string; split: string; revision?: string; fetch?: DownloadRepoFilesOptions['fetch']}): Promise<void> {
  const {file, option, ...rest} = opts
  await located({file, option}, () => downloadDatasetParquet({...rest, checkOnly: true}))
}

/** The hub's answers and a cache that cannot answer offline are the user's to fix: exit 2, located. */
async function located(site: HubCheckSite, check: () => Promise<unknown>): Promise<void> {
  try {
    await check()
  } catch (error) {
    if (!(error instanceof RtdError) || !error.code.startsWith('hub.')) throw error
    throw new ConfigError(`${site.file}: ${site.option}: ${error.message}`, {code: error.code, suggestions: error.suggestions, cause: error})
  }
}
