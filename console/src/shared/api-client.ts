/**
 * apiRequest / streamEvents: the console's only way to the gateway. Every call carries the session's
 * API key; errors come back as ApiError with the gateway's error envelope ({code, message, …}).
 */
import { readApiKey } from './key-store';

export interface ErrorEnvelope {
  code: string;
  message: string;
  request_id?: string;
  param?: string;
  line?: number;
  column?: number;
  pointer?: string;
  errors?: Array<{ pointer: string; line?: number; message: string }>;
  findings?: unknown[];
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly envelope: ErrorEnvelope;
  constructor(status: number, envelope: ErrorEnvelope) {
    super(envelope.message);
    this.status = status;
    this.envelope = envelope;
  }
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  text?: string;
  contentType?: string;
  signal?: AbortSignal;
}

function headers(options: RequestOptions): Record<string, string> {
  const result: Record<string, string> = { Accept: 'application/json' };
  const key = readApiKey();
  if (key) result.Authorization = `Bearer ${key}`;
  if (options.json !== undefined) result['Content-Type'] = 'application/json';
  if (options.text !== undefined) result['Content-Type'] = options.contentType ?? 'text/plain';
  return result;
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function failure(response: Response): Promise<ApiError> {
  const body = parseBody(await response.text()) as { error?: ErrorEnvelope } | undefined;
  const envelope = body?.error ?? { code: `http_${response.status}`, message: response.statusText || `HTTP ${response.status}` };
  return new ApiError(response.status, envelope);
}

export async function rawRequest(path: string, options: RequestOptions = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.json !== undefined || options.text !== undefined ? 'POST' : 'GET'),
      headers: headers(options),
      body: options.json !== undefined ? JSON.stringify(options.json) : options.text,
      signal: options.signal,
      cache: 'no-store',
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, { code: 'network_error', message: `the gateway did not answer: ${(error as Error).message}` });
  }
  if (!response.ok) throw await failure(response);
  return response;
}

/** A JSON request; `allowStatus` lists non-2xx statuses whose JSON body is a result, not an error (audit verify's 409). */
export async function apiRequest<T>(path: string, options: RequestOptions & { allowStatus?: number[] } = {}): Promise<T> {
  try {
    const response = await rawRequest(path, options);
    return parseBody(await response.text()) as T;
  } catch (error) {
    if (error instanceof ApiError && options.allowStatus?.includes(error.status)) return error.envelope as unknown as T;
    throw error;
  }
}

export interface StreamEvent {
  event: string;
  data: unknown;
}

/** POSTs JSON and yields the server-sent events of the response as they arrive. */
export async function* streamEvents(path: string, body: unknown, signal: AbortSignal): AsyncGenerator<StreamEvent> {
  const response = await rawRequest(path, { json: body, signal });
  if (!response.body) throw new ApiError(0, { code: 'network_error', message: 'the response has no body' });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      const text = data.join('\n');
      yield { event, data: parseBody(text) ?? text };
    }
  }
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const where = error.envelope.line !== undefined ? ` (line ${error.envelope.line}${error.envelope.column !== undefined ? `, column ${error.envelope.column}` : ''})` : '';
    return `${error.envelope.code}: ${error.envelope.message}${where}`;
  }
  return error instanceof Error ? error.message : String(error);
}
