/**
 * loadModelFolder: reads and validates a Hugging Face–style model folder (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx) before anything is built from it.
 *
 * Every file is checked to exist and parse; a missing or corrupt file is a start-up error that names
 * the file (GatewayError `unavailable`), so an operator sees "tokenizer.json: Unexpected token…" and
 * not a stack trace from deep inside the tokenizer library.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../../errors/gateway-error';
import { parseJson } from '../../util/parse-json';

export type JsonObject = Record<string, unknown>;

export interface ModelFolder {
  dir: string;
  /** Model id: the folder's base name unless given. */
  id: string;
  config: JsonObject;
  tokenizerJson: JsonObject;
  tokenizerConfig: JsonObject;
  onnxPath: string;
  /** Maximum positions, from config.json (max_position_embeddings, n_positions, n_ctx). */
  contextLength: number;
  numLayers: number;
  numKeyValueHeads: number;
  headDim: number;
  /** Token ids that end a generation: config eos_token_id, the tokenizer's eos_token, and special end markers. */
  eosTokenIds: number[];
  bosToken?: string;
  eosToken?: string;
  chatTemplate?: string;
}

/** Special-token names that end a generation wherever they appear in a vocabulary. */
const END_MARKERS = new Set(['</s>', '<|endoftext|>', '<|end_of_text|>', '<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<eos>']);

/** Files larger than this are not read as JSON (a guard against pointing the loader at the wrong folder). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

function startupError(file: string, message: string, cause?: unknown): GatewayError {
  return new GatewayError('unavailable', `model folder: ${file}: ${message}`, { details: { file }, cause });
}

function readJsonObject(file: string): JsonObject {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw startupError(file, 'missing', error);
  }
  if (!stat.isFile()) throw startupError(file, 'not a file');
  if (stat.size > MAX_JSON_BYTES) throw startupError(file, `too large (${stat.size} bytes)`);
  const parsed = parseJson(fs.readFileSync(file, 'utf8'));
  if (!parsed.ok) throw startupError(file, `not valid JSON (${parsed.error})`);
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw startupError(file, 'not a JSON object');
  return value as JsonObject;
}

function numberField(config: JsonObject, names: string[]): number | undefined {
  for (const name of names) {
    const value = config[name];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

/** A special-token entry in tokenizer_config.json is either a string or `{content: "…"}`. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as JsonObject).content === 'string') return (value as JsonObject).content as string;
  return undefined;
}

function tokenIdOf(tokenizerJson: JsonObject, text: string): number | undefined {
  const added = tokenizerJson.added_tokens;
  if (Array.isArray(added)) {
    for (const entry of added) {
      if (entry && typeof entry === 'object' && (entry as JsonObject).content === text && typeof (entry as JsonObject).id === 'number') {
        return (entry as JsonObject).id as number;
      }
    }
  }
  const model = tokenizerJson.model as JsonObject | undefined;
  const vocab = model?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    const id = (vocab as JsonObject)[text];
    if (typeof id === 'number') return id;
  }
  return undefined;
}

export function loadModelFolder(dir: string, id?: string): ModelFolder {
  const root = path.resolve(dir);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw startupError(root, 'model folder missing');
  const configPath = path.join(root, 'config.json');
  const tokenizerPath = path.join(root, 'tokenizer.json');
  const tokenizerConfigPath = path.join(root, 'tokenizer_config.json');
  const onnxPath = path.join(root, 'onnx', 'model.onnx');

  const config = readJsonObject(configPath);
  const tokenizerJson = readJsonObject(tokenizerPath);
  const tokenizerConfig = readJsonObject(tokenizerConfigPath);
  const model = tokenizerJson.model as JsonObject | undefined;
  if (!model || typeof model !== 'object' || typeof model.type !== 'string') throw startupError(tokenizerPath, 'no "model" section with a "type"');

  if (!fs.existsSync(onnxPath)) throw startupError(onnxPath, 'missing');
  const onnxStat = fs.statSync(onnxPath);
  if (!onnxStat.isFile() || onnxStat.size < 16) throw startupError(onnxPath, 'empty or not a file');

  const numLayers = numberField(config, ['num_hidden_layers', 'n_layer', 'num_layers']);
  const heads = numberField(config, ['num_attention_heads', 'n_head']);
  const hidden = numberField(config, ['hidden_size', 'n_embd', 'd_model']);
  if (numLayers === undefined || heads === undefined || hidden === undefined) {
    throw startupError(configPath, 'needs num_hidden_layers/n_layer, num_attention_heads/n_head and hidden_size/n_embd');
  }
  const numKeyValueHeads = numberField(config, ['num_key_value_heads']) ?? heads;
  const headDim = numberField(config, ['head_dim']) ?? hidden / heads;
  if (!Number.isInteger(headDim) || headDim <= 0) throw startupError(configPath, `head dimension ${headDim} is not a positive integer`);
  const contextLength = numberField(config, ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_sequence_length']) ?? 2048;

  const bosToken = tokenText(tokenizerConfig.bos_token);
  const eosToken = tokenText(tokenizerConfig.eos_token);
  const eosTokenIds = new Set<number>();
  const configEos = config.eos_token_id;
  if (typeof configEos === 'number') eosTokenIds.add(configEos);
  if (Array.isArray(configEos)) for (const value of configEos) if (typeof value === 'number') eosTokenIds.add(value);
  if (eosToken !== undefined) {
    const eosId = tokenIdOf(tokenizerJson, eosToken);
    if (eosId !== undefined) eosTokenIds.add(eosId);
  }
  // Special tokens named like an end marker also end a generation (a model trained on documents ending
  // in </s> but chatting with <|end|> must stop at either).
  const added = tokenizerJson.added_tokens;
  if (Array.isArray(added)) {
    for (const entry of added) {
      const record = entry as JsonObject;
      if (record && record.special === true && typeof record.id === 'number' && typeof record.content === 'string' && END_MARKERS.has(record.content)) {
        eosTokenIds.add(record.id);
      }
    }
  }
  if (eosTokenIds.size === 0) throw startupError(configPath, 'no eos_token_id (and tokenizer_config.json names no eos_token)');

  let chatTemplate: string | undefined;
  if (typeof tokenizerConfig.chat_template === 'string') chatTemplate = tokenizerConfig.chat_template;
  else if (Array.isArray(tokenizerConfig.chat_template)) {
    // The list form: [{name: "default", template: "…"}, …].
    for (const entry of tokenizerConfig.chat_template) {
      if (entry && typeof entry === 'object' && (entry as JsonObject).name === 'default' && typeof (entry as JsonObject).template === 'string') {
        chatTemplate = (entry as JsonObject).template as string;
      }
    }
  }

  return {
    dir: root,
    id: id ?? path.basename(root),
    config,
    tokenizerJson,
    tokenizerConfig,
    onnxPath,
    contextLength,
    numLayers,
    numKeyValueHeads,
    headDim,
    eosTokenIds: [...eosTokenIds],
    bosToken,
    eosToken,
    chatTemplate,
  };
}
