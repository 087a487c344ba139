/**
 * A Hugging Face dataset split as local Parquet files, through src/hub: the HF cache layout,
 * HF_TOKEN / HF_ENDPOINT / HF_HUB_OFFLINE, offline resolution of refs from the cache, and the
 * choice of a split's files (the repo's own Parquet files, else refs/convert/parquet).
 */
import {RtdError, RuntimeFailure} from '../errors.js'
import {downloadDatasetParquet, type HubSettingsOptions} from '../hub/index.js'
import type {FetchLike} from '../hub/hub-request.js'

/** Hub client settings (defaults from the environment; see src/hub/hub-settings.ts). */
export type HubOptions = HubSettingsOptions & {fetch?: FetchLike}

export async function downloadHubSplit(params: {
  repo: string
  config?: string
  split: string
  revision?: string
  hub?: HubOptions
}): Promise<{dir: string; files: string[]; revision: string}> {
  try {
    const got = await downloadDatasetParquet({
      ...params.hub,
      repo: params.repo,
      config: params.config,
      split: params.split,
      ...(params.revision ? {revision: params.revision} : {}),
    })
    return {dir: got.snapshotDir, files: [...got.files].sort(), revision: got.revision}
  } catch (error) {
    if (error instanceof RtdError) throw error
    throw new RuntimeFailure(`could not fetch dataset ${params.repo}: ${(error as Error).message}`, {
      code: 'data.hub_failed',
      cause: error,
      suggestions: [
        'Check the dataset name and your network; set HF_TOKEN for gated or private datasets.',
        'To work offline, fetch the dataset once while online; HF_HUB_OFFLINE=1 then reads the cache.',
      ],
    })
  }
}
