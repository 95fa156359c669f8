/**
 * PlaygroundView: one generation through the whole pipeline (POST /v1/generate, streamed). Prompt or
 * chat messages, model, constraint, lexical include/exclude, policy and sampling settings in; tokens
 * stream into the output, then the final response paints findings over the text, the decision,
 * per-sentence consistency and per-stage timings.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, apiRequest, describeError, streamEvents } from '../shared/api-client';
import { DecisionBadge } from '../shared/decision-badge';
import type { Finding, GenerateResponse, ModelInfo, PolicyListing } from '../shared/types';
import { buildConstraint, ConstraintEditor, EXAMPLE_CONSTRAINT, type ConstraintDraft } from './constraint-editor';
import { ConsistencyView } from './consistency-view';
import { FindingsList } from './findings-list';
import { HighlightedText, type NumberedFinding } from './highlighted-text';
import { TimingsChart } from './timings-chart';

type Message = { role: 'system' | 'user' | 'assistant'; content: string };

interface RunState {
  status: 'idle' | 'streaming' | 'done' | 'error';
  text: string;
  response?: GenerateResponse;
  error?: string;
  errorFindings?: Finding[];
}

function phrases(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function prettyJson(text: string): { ok: true; pretty: string } | { ok: false; message: string } {
  try {
    return { ok: true, pretty: JSON.stringify(JSON.parse(text), null, 2) };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

export function PlaygroundView() {
  const [mode, setMode] = useState<'prompt' | 'chat'>('prompt');
  const [prompt, setPrompt] = useState('Describe a person as JSON.');
  const [messages, setMessages] = useState<Message[]>([
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Hello!' },
  ]);
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [model, setModel] = useState('');
  const [policies, setPolicies] = useState<string[]>([]);
  const [policy, setPolicy] = useState('');
  const [constraint, setConstraint] = useState<ConstraintDraft>(EXAMPLE_CONSTRAINT);
  const [include, setInclude] = useState('');
  const [exclude, setExclude] = useState('');
  const [maxTokens, setMaxTokens] = useState(64);
  const [temperature, setTemperature] = useState(0.7);
  const [seed, setSeed] = useState('');
  const [samples, setSamples] = useState(0);
  const [run, setRun] = useState<RunState>({ status: 'idle', text: '' });
  const controller = useRef<AbortController | null>(null);
  const resultPanel = useRef<HTMLElement>(null);

  useEffect(() => {
    apiRequest<{ data: ModelInfo[] }>('/v1/models')
      .then((result) => {
        setModels(result.data);
        setModel((current) => current || result.data[0]?.id || '');
      })
      .catch(() => setModels([]));
    apiRequest<PolicyListing>('/v1/policies')
      .then((result) => setPolicies(result.policies.map((entry) => entry.name)))
      .catch(() => setPolicies([]));
    return () => controller.current?.abort();
  }, []);

  const lexicalSpec = (): { include?: string[]; exclude?: string[] } | undefined => {
    const lexical: { include?: string[]; exclude?: string[] } = {};
    if (phrases(include).length > 0) lexical.include = phrases(include);
    if (phrases(exclude).length > 0) lexical.exclude = phrases(exclude);
    return Object.keys(lexical).length > 0 ? lexical : undefined;
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    const built = buildConstraint(constraint);
    if (!built.ok) {
      setRun({ status: 'error', text: '', error: `The constraint does not compile: ${built.errors.map((error) => error.message).join('; ')}` });
      return;
    }
    const body: Record<string, unknown> = { stream: true, max_tokens: maxTokens, temperature };
    if (mode === 'prompt') body.prompt = prompt;
    else body.messages = messages.filter((message) => message.content.length > 0);
    if (model) body.model = model;
    if (policy) body.policy = policy;
    if (built.constraint) body.constraint = built.constraint;
    const lexical = lexicalSpec();
    if (lexical) body.lexical = lexical;
    if (seed.trim() !== '') body.seed = Number(seed);
    if (samples > 0) body.checks = { self_consistency: { samples } };

    controller.current?.abort();
    const current = new AbortController();
    controller.current = current;
    setRun({ status: 'streaming', text: '' });
    // On a phone the result is below the form: bring it into view as tokens arrive.
    if (matchMedia('(max-width: 900px)').matches) resultPanel.current?.scrollIntoView({ block: 'start' });
    let text = '';
    try {
      for await (const message of streamEvents('/v1/generate', body, current.signal)) {
        if (message.event === 'token') {
          const token = message.data as { choice?: number; text?: string };
          if ((token.choice ?? 0) === 0 && typeof token.text === 'string') {
            text += token.text;
            setRun({ status: 'streaming', text });
          }
        } else if (message.event === 'done') {
          const response = message.data as GenerateResponse;
          setRun({ status: 'done', text: response.choices[0]?.text ?? text, response });
        } else if (message.event === 'error') {
          const envelope = (message.data as { error?: { code?: string; message?: string; findings?: Finding[] } }).error;
          setRun({ status: 'error', text, error: `${envelope?.code ?? 'error'}: ${envelope?.message ?? 'the stream failed'}`, errorFindings: envelope?.findings });
        }
      }
      setRun((state) => (state.status === 'streaming' ? { ...state, status: 'error', error: 'the stream ended without a final response' } : state));
    } catch (error) {
      if (current.signal.aborted) {
        setRun((state) => ({ ...state, status: 'error', error: 'stopped' }));
        return;
      }
      const findings = error instanceof ApiError ? (error.envelope.findings as Finding[] | undefined) : undefined;
      setRun({ status: 'error', text, error: describeError(error), errorFindings: findings });
    }
  };

  const response = run.response;
  const numbered: NumberedFinding[] = (response?.findings ?? run.errorFindings ?? []).map((finding, index) => ({ number: index + 1, finding }));
  const outputFindings = numbered.filter((item) => item.finding.stage === 'output' && (item.finding.choice ?? 0) === 0 && item.finding.verdict !== 'pass');
  // Input findings point into the text they were raised on: the prompt, or message N (`messages/N`).
  const inputSources = new Map<string, { label: string; text: string; findings: NumberedFinding[] }>();
  for (const item of numbered) {
    const source = item.finding.source;
    if (item.finding.stage !== 'input' || item.finding.verdict === 'pass' || !source || (item.finding.spans ?? []).length === 0) continue;
    const message = /^messages\/(\d+)$/.exec(source);
    const text = source === 'prompt' && mode === 'prompt' ? prompt : message && mode === 'chat' ? messages[Number(message[1])]?.content : undefined;
    if (text === undefined) continue;
    const entry = inputSources.get(source) ?? { label: source === 'prompt' ? 'Prompt' : `Message ${Number(message![1]) + 1} (${messages[Number(message![1])]?.role ?? 'message'})`, text, findings: [] };
    entry.findings.push(item);
    inputSources.set(source, entry);
  }
  const json = run.status === 'done' && constraint.kind === 'json_schema' ? prettyJson(run.text) : undefined;
  const choice = response?.choices[0];

  return (
    <div class="playground">
      <form class="panel request-panel" onSubmit={submit} aria-labelledby="playground-heading">
        <h2 id="playground-heading">Request</h2>
        <div class="segmented" role="radiogroup" aria-label="Input form">
          <label class={mode === 'prompt' ? 'selected' : ''}>
            <input type="radio" name="mode" value="prompt" checked={mode === 'prompt'} onChange={() => setMode('prompt')} />
            Prompt
          </label>
          <label class={mode === 'chat' ? 'selected' : ''}>
            <input type="radio" name="mode" value="chat" checked={mode === 'chat'} onChange={() => setMode('chat')} />
            Chat messages
          </label>
        </div>
        {mode === 'prompt' ? (
          <div class="field">
            <label for="prompt">Prompt</label>
            <textarea id="prompt" rows={4} value={prompt} onInput={(event) => setPrompt((event.currentTarget as HTMLTextAreaElement).value)} />
          </div>
        ) : (
          <fieldset class="messages">
            <legend>Messages</legend>
            {messages.map((message, index) => (
              <div class="message-row" key={index}>
                <label class="visually-hidden" for={`role-${index}`}>
                  Role of message {index + 1}
                </label>
                <select
                  id={`role-${index}`}
                  value={message.role}
                  onChange={(event) => setMessages(messages.map((entry, at) => (at === index ? { ...entry, role: (event.currentTarget as HTMLSelectElement).value as Message['role'] } : entry)))}
                >
                  <option value="system">system</option>
                  <option value="user">user</option>
                  <option value="assistant">assistant</option>
                </select>
                <label class="visually-hidden" for={`content-${index}`}>
                  Content of message {index + 1}
                </label>
                <textarea
                  id={`content-${index}`}
                  rows={2}
                  value={message.content}
                  onInput={(event) => setMessages(messages.map((entry, at) => (at === index ? { ...entry, content: (event.currentTarget as HTMLTextAreaElement).value } : entry)))}
                />
                <button type="button" class="secondary small" aria-label={`Remove message ${index + 1}`} onClick={() => setMessages(messages.filter((_, at) => at !== index))}>
                  ✕
                </button>
              </div>
            ))}
            <button type="button" class="secondary small" onClick={() => setMessages([...messages, { role: 'user', content: '' }])}>
              Add message
            </button>
          </fieldset>
        )}
        <div class="field-grid">
          <div class="field">
            <label for="model">Model</label>
            <select id="model" value={model} onChange={(event) => setModel((event.currentTarget as HTMLSelectElement).value)}>
              {models.length === 0 ? <option value="">(default)</option> : null}
              {models.map((entry) => (
                <option key={entry.id} value={entry.id}>
                  {entry.id}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="policy">Policy</label>
            <select id="policy" value={policy} onChange={(event) => setPolicy((event.currentTarget as HTMLSelectElement).value)}>
              <option value="">(default)</option>
              {policies.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="max-tokens">Max tokens</label>
            <input id="max-tokens" type="number" min={1} max={4096} value={maxTokens} onInput={(event) => setMaxTokens(Number((event.currentTarget as HTMLInputElement).value) || 1)} />
          </div>
          <div class="field">
            <label for="temperature">Temperature</label>
            <input id="temperature" type="number" min={0} max={2} step={0.1} value={temperature} onInput={(event) => setTemperature(Number((event.currentTarget as HTMLInputElement).value))} />
          </div>
          <div class="field">
            <label for="seed">Seed</label>
            <input id="seed" type="number" inputMode="numeric" placeholder="random" value={seed} onInput={(event) => setSeed((event.currentTarget as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="samples">Consistency samples</label>
            <input id="samples" type="number" min={0} max={16} value={samples} aria-describedby="samples-hint" onInput={(event) => setSamples(Math.max(0, Number((event.currentTarget as HTMLInputElement).value) || 0))} />
            <span class="hint" id="samples-hint">
              0 = off
            </span>
          </div>
        </div>
        <ConstraintEditor draft={constraint} lexical={lexicalSpec()} onChange={setConstraint} />
        <fieldset class="lexical">
          <legend>Lexical constraints</legend>
          <div class="field-grid two">
            <div class="field">
              <label for="lexical-include">Must include (one phrase per line)</label>
              <textarea id="lexical-include" rows={2} value={include} onInput={(event) => setInclude((event.currentTarget as HTMLTextAreaElement).value)} />
            </div>
            <div class="field">
              <label for="lexical-exclude">Must not include (one phrase per line)</label>
              <textarea id="lexical-exclude" rows={2} value={exclude} onInput={(event) => setExclude((event.currentTarget as HTMLTextAreaElement).value)} />
            </div>
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit" id="generate" disabled={run.status === 'streaming'}>
            {run.status === 'streaming' ? 'Generating…' : 'Generate'}
          </button>
          {run.status === 'streaming' ? (
            <button type="button" class="secondary" onClick={() => controller.current?.abort()}>
              Stop
            </button>
          ) : null}
        </div>
      </form>

      <section class="panel result-panel" ref={resultPanel} aria-labelledby="result-heading" aria-busy={run.status === 'streaming'}>
        <h2 id="result-heading">Result</h2>
        {run.status === 'idle' ? <p class="muted">Tokens stream here as they are generated.</p> : null}
        {run.error ? (
          <p class="error-banner" role="alert" id="generate-error">
            {run.error}
          </p>
        ) : null}
        {run.status !== 'idle' && !(run.status === 'error' && run.text === '') ? (
          <div class="output-block">
            <div class="output-head">
              <h3>Output</h3>
              {response ? <DecisionBadge decision={response.decision} label="Decision" /> : null}
              {choice ? <span class="tag">finish: {choice.finish_reason}</span> : null}
              {choice?.constraint_complete !== undefined ? <span class="tag">{choice.constraint_complete ? 'constraint complete' : 'constraint incomplete'}</span> : null}
              {json ? (
                json.ok ? (
                  <span class="badge valid" id="json-status" data-valid="true">
                    ✓ valid JSON
                  </span>
                ) : (
                  <span class="badge invalid" id="json-status" data-valid="false">
                    ✗ not JSON: {json.message}
                  </span>
                )
              ) : null}
            </div>
            {run.status === 'streaming' ? (
              <pre class="output streaming" id="output" aria-live="polite">
                {run.text}
                <span class="cursor" aria-hidden="true" />
              </pre>
            ) : (
              <div class="output" id="output" data-text={run.text}>
                <HighlightedText text={run.text} findings={outputFindings} label="Generated text with findings marked" />
              </div>
            )}
            {json?.ok && json.pretty !== run.text ? (
              <details>
                <summary>Formatted JSON</summary>
                <pre class="code">{json.pretty}</pre>
              </details>
            ) : null}
          </div>
        ) : null}
        {inputSources.size > 0 ? (
          <div class="output-block" id="input-findings">
            <h3>Input, as checked</h3>
            {[...inputSources.values()].map((entry) => (
              <div key={entry.label} class="input-source">
                <span class="tag">{entry.label}</span>
                <div class="output">
                  <HighlightedText text={entry.text} findings={entry.findings} label={`${entry.label} with findings marked`} />
                </div>
              </div>
            ))}
          </div>
        ) : null}
        {response?.consistency ? (
          <div class="output-block">
            <h3>Consistency</h3>
            <ConsistencyView score={response.consistency.score} sentences={response.consistency.sentences} />
          </div>
        ) : null}
        {numbered.length > 0 ? (
          <div class="output-block">
            <h3>Findings</h3>
            <FindingsList findings={numbered} />
          </div>
        ) : null}
        {response ? (
          <div class="output-block">
            <h3>Timings</h3>
            <TimingsChart timings={response.timings_ms} />
            <dl class="facts">
              <dt>Model</dt>
              <dd>{response.model}</dd>
              <dt>Seed</dt>
              <dd>{response.seed ?? '–'}</dd>
              <dt>Tokens</dt>
              <dd>{response.usage ? `${response.usage.prompt_tokens} in, ${response.usage.completion_tokens} out` : '–'}</dd>
              <dt>Policy</dt>
              <dd>{response.policy ? `${response.policy.name} · ${response.policy.revision.slice(0, 19)}…` : '–'}</dd>
              <dt>Audit record</dt>
              <dd>{response.audit_id ? <a href={`#/audit/${encodeURIComponent(response.audit_id)}`}>{response.audit_id}</a> : '–'}</dd>
            </dl>
          </div>
        ) : null}
      </section>
    </div>
  );
}
