/**
 * useDebouncedEffect: runs an async effect once the inputs have been still for `delayMs`, and aborts
 * the previous run when they change (validation as you type without a request per key press).
 */
import { useEffect } from 'preact/hooks';

export function useDebouncedEffect(effect: (signal: AbortSignal) => void | Promise<void>, inputs: unknown[], delayMs: number): void {
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      void Promise.resolve(effect(controller.signal)).catch(() => undefined);
    }, delayMs);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, inputs);
}
