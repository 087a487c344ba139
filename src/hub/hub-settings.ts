/**
 * Where the hub is and where its files are cached, resolved from explicit options first and
 * then from the same environment variables Python huggingface_hub reads (huggingface_hub/constants.py):
 * HF_ENDPOINT, HF_TOKEN (or the token file under HF_HOME), HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME,
 * HF_HUB_OFFLINE.
 */
import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

export const REPO_TYPES = ['model', 'dataset'] as const
export type RepoType = (typeof REPO_TYPES)[number]

export interface HubSettingsOptions {
  /** Default: env HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string
  /** Default: env HF_TOKEN, else the token file ($HF_TOKEN_PATH or $HF_HOME/token) if present. */
  token?: string
  /** Default: env HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string
  /** Default: env HF_HUB_OFFLINE is 1/true/yes/on. */
  offline?: boolean
  /** Environment to read (default process.env); injectable for tests. */
  env?: Record<string, string | undefined>
}

export interface HubSettings {
  endpoint: string
  token: string | undefined
  cacheDir: string
  offline: boolean
}

const TRUE_VALUES = ['1', 'on', 'yes', 'true']

export function resolveHubSettings(opts: HubSettingsOptions = {}): HubSettings {
  const env = opts.env ?? process.env
  const hfHome = env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface')
  const endpoint = (opts.endpoint ?? (env.HF_ENDPOINT || 'https://huggingface.co')).replace(/\/+$/, '')
  const cacheDir = opts.cacheDir ?? (env.HF_HUB_CACHE || join(hfHome, 'hub'))
  const offline = opts.offline ?? TRUE_VALUES.includes((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase())
  let token = opts.token ?? (env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined)
  if (token === undefined) {
    const tokenPath = env.HF_TOKEN_PATH || join(hfHome, 'token')
    if (existsSync(tokenPath)) token = readFileSync(tokenPath, 'utf8').trim() || undefined
  }
  return {endpoint, token, cacheDir, offline}
}
