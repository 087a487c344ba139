/**
 * Ctrl-C handling for long commands: the first SIGINT aborts the signal (stages stop at the
 * next safe point and save), a second one runs `beforeExit` (synchronous: e.g. mark the run
 * interrupted) and exits at once with status 130.
 */
import {Interrupted} from '../errors.js'

export interface InterruptHandle {
  signal: AbortSignal
  dispose(): void
}

export function installInterruptHandler(params: {
  /** Told about the first Ctrl-C (to stderr). */
  notify?: (message: string) => void
  /** Called on the second Ctrl-C; default exits the process with 130. */
  forceExit?: () => void
  /** Called on the second Ctrl-C before `forceExit`; its errors are ignored (we are leaving). */
  beforeExit?: () => void
  /** Default `process`; tests pass an EventEmitter. */
  target?: NodeJS.EventEmitter
}): InterruptHandle {
  const controller = new AbortController()
  const target = params.target ?? process
  const forceExit = params.forceExit ?? (() => process.exit(130))
  const onSigint = () => {
    if (controller.signal.aborted) {
      params.notify?.('second Ctrl-C: exiting now without saving')
      try {
        params.beforeExit?.()
      } catch {
        // exiting anyway; the run directory's status is best effort here
      }
      forceExit()
      return
    }
    params.notify?.('Ctrl-C: stopping at the next safe point (the current stage saves); press Ctrl-C again to quit at once')
    controller.abort(new Interrupted())
  }
  target.on('SIGINT', onSigint)
  return {signal: controller.signal, dispose: () => target.off('SIGINT', onSigint)}
}
