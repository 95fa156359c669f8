/**
 * Helpers for the ONNX backend tests: fixture paths, a request builder with SPEC defaults, and a
 * collector that runs a generation to the end and groups its events per choice.
 */
import path from 'node:path';
import fs from 'node:fs';
import type { Backend, BackendEvent, BackendRequest, FinishReason } from '../../../src/backends/backend';

export const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'models');
export const TINY_LLAMA = path.join(FIXTURES, 'tiny-llama');
export const TINY_GPT2 = path.join(FIXTURES, 'tiny-gpt2');

export interface Golden {
  cases: Array<{ prompt: string; prompt_ids: number[]; greedy_ids: number[] }>;
}

export function readGolden(dir: string): Golden {
  return JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8')) as Golden;
}

export function makeRequest(model: string, overrides: Partial<BackendRequest> = {}): BackendRequest {
  return {
    model,
    prompt: 'The gateway checks what',
    maxTokens: 16,
    temperature: 1,
    topP: 1,
    topK: 0,
    minP: 0,
    repetitionPenalty: 1,
    seed: 42,
    stop: [],
    n: 1,
    stream: false,
    ...overrides,
  };
}

export interface ChoiceResult {
  text: string;
  tokenIds: number[];
  finishReason?: FinishReason;
  completionTokens?: number;
  constraintComplete?: boolean;
  deltas: number;
}

export interface GenerationResult {
  promptTokens: number;
  choices: ChoiceResult[];
  events: BackendEvent[];
}

export async function collect(backend: Backend, request: BackendRequest, signal: AbortSignal = new AbortController().signal): Promise<GenerationResult> {
  const result: GenerationResult = { promptTokens: -1, choices: [], events: [] };
  for await (const event of backend.generate(request, signal)) {
    result.events.push(event);
    if (event.type === 'prompt-tokens') {
      result.promptTokens = event.count;
      continue;
    }
    const choice = (result.choices[event.choice] ??= { text: '', tokenIds: [], deltas: 0 });
    if (event.type === 'token-delta') {
      choice.text += event.text;
      choice.tokenIds.push(...event.tokenIds);
      choice.deltas++;
    } else {
      choice.finishReason = event.finishReason;
      choice.completionTokens = event.completionTokens;
      choice.constraintComplete = event.constraintComplete;
    }
  }
  return result;
}
