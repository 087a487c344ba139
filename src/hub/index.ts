/** Public surface of the hub client. */
export {downloadRepoFiles, resolveRepoRevision, type DownloadedRepo, type DownloadRepoFilesOptions, type ResolvedRevision} from './download-repo-files.js'
export {downloadDatasetParquet, pickSplitFiles, PARQUET_BRANCH} from './download-dataset-parquet.js'
export {listRepoFiles, type RepoRevision} from './list-repo-files.js'
export {type DownloadProgress} from './download-file-to-cache.js'
export {HubHttpError} from './hub-request.js'
export {repoCacheDir, resolveCachedRevision, listSnapshotFiles} from './cache-layout.js'
export {resolveHubSettings, REPO_TYPES, type RepoType, type HubSettings, type HubSettingsOptions} from './hub-settings.js'
export {checkHubDatasetSplit, checkHubModel, type HubCheckSite} from './check-hub-access.js'
