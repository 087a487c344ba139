/**
 * Opens a page in headless Chromium (Debian's `chromium`) over the DevTools protocol on a pipe
 * (--remote-debugging-pipe: fd 3 to the browser, fd 4 from it, NUL-separated JSON), evaluates
 * expressions in it and takes screenshots. `findChromium()` is undefined where it is absent.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type {Readable, Writable} from 'node:stream'

export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((x): x is string => !!x)
  return candidates.find((c) => fs.existsSync(c))
}

export class HeadlessPage {
  private nextId = 1
  private buffer = ''
  private readonly pending = new Map<number, {resolve: (v: any) => void; reject: (e: Error) => void}>()
  private readonly listeners: ((msg: any) => void)[] = []
  private sessionId?: string

  private constructor(
    private readonly proc: ChildProcess,
    private readonly userDir: string,
  ) {
    const out = proc.stdio[4] as Readable
    out.setEncoding('utf8')
    out.on('data', (chunk: string) => {
      this.buffer += chunk
      let i: number
      while ((i = this.buffer.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buffer.slice(0, i))
        this.buffer = this.buffer.slice(i + 1)
        const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined
        if (p) {
          this.pending.delete(msg.id)
          if (msg.error) p.reject(new Error(`${msg.error.message} ${msg.error.data ?? ''}`))
          else p.resolve(msg.result)
        } else for (const l of this.listeners) l(msg)
      }
    })
  }

  static async open(params: {chromium: string; width?: number; height?: number}): Promise<HeadlessPage> {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtd-chromium-'))
    const proc = spawn(params.chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--remote-debugging-pipe', `--user-data-dir=${userDir}`, `--window-size=${params.width ?? 1280},${params.height ?? 900}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    })
    const page = new HeadlessPage(proc, userDir)
    const {targetId} = await page.send('Target.createTarget', {url: 'about:blank'})
    const {sessionId} = await page.send('Target.attachToTarget', {targetId, flatten: true})
    page.sessionId = sessionId
    await page.send('Page.enable')
    return page
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = this.nextId++
    const msg = {id, method, params, ...(this.sessionId && !method.startsWith('Target.') ? {sessionId: this.sessionId} : {})}
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      ;(this.proc.stdio[3] as Writable).write(`${JSON.stringify(msg)}\0`)
    })
  }

  /** Navigate and wait for the load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => this.listeners.push((m) => m.method === 'Page.loadEventFired' && resolve()))
    await this.send('Page.navigate', {url})
    await loaded
  }

  /** The JSON-serialisable value of an expression evaluated in the page. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', {expression, returnByValue: true, awaitPromise: true})
    if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`)
    return r.result.value as T
  }

  /** A PNG of the whole page (or its first `maxHeight` pixels). */
  async screenshot(file: string, opts: {maxHeight?: number} = {}): Promise<void> {
    const size = await this.evaluate<{w: number; h: number}>('({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})')
    const h = Math.min(size.h, opts.maxHeight ?? size.h)
    const r = await this.send('Page.captureScreenshot', {format: 'png', captureBeyondViewport: true, clip: {x: 0, y: 0, width: size.w, height: h, scale: 1}})
    fs.writeFileSync(file, Buffer.from(r.data, 'base64'))
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.proc.exitCode !== null ? resolve() : this.proc.once('exit', () => resolve())))
    this.send('Browser.close').catch(() => {})
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
    // the browser's helper processes may still be writing into the profile for a moment
    fs.rmSync(this.userDir, {recursive: true, force: true, maxRetries: 10, retryDelay: 100})
  }
}
