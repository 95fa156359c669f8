/**
 * PolicyEditorView: list the policies, edit one's YAML with validation as you type (errors at their
 * line, from POST /v1/policies/validate), run its stored test cases, diff the draft against the loaded
 * revision, and save (PUT /v1/policies/NAME, role policy:write) — the gateway hot-reloads and the new
 * revision is shown.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiRequest, describeError } from '../shared/api-client';
import { CodeEditor, type EditorError } from '../shared/code-editor';
import { foldUnchanged, lineDiff } from '../shared/line-diff';
import type { PolicyDetail, PolicyListing, PolicyTestReport } from '../shared/types';
import { useDebouncedEffect } from '../shared/use-debounced';

type Validation = { state: 'idle' | 'checking' | 'valid' | 'invalid' | 'failed'; errors: EditorError[]; revision?: string; message?: string };

function shortRevision(revision: string | undefined): string {
  return revision ? revision.replace(/^sha256:/, '').slice(0, 12) : '–';
}

function failureText(failure: unknown): string {
  if (typeof failure === 'string') return failure;
  if (failure && typeof failure === 'object') {
    const record = failure as Record<string, unknown>;
    if (typeof record.message === 'string') return `${typeof record.path === 'string' ? `${record.path}: ` : ''}${record.message}`;
  }
  return JSON.stringify(failure);
}

export function PolicyEditorView(props: { selected?: string; onSelect(name: string): void }) {
  const [listing, setListing] = useState<PolicyListing | null>(null);
  const [listError, setListError] = useState('');
  const [detail, setDetail] = useState<PolicyDetail | null>(null);
  const [draft, setDraft] = useState('');
  const [validation, setValidation] = useState<Validation>({ state: 'idle', errors: [] });
  const [report, setReport] = useState<PolicyTestReport | null>(null);
  const [testing, setTesting] = useState(false);
  const [testError, setTestError] = useState('');
  const [showDiff, setShowDiff] = useState(false);
  const [saveState, setSaveState] = useState<{ state: 'idle' | 'saving' | 'saved' | 'failed'; message?: string }>({ state: 'idle' });

  const loadListing = async () => {
    try {
      setListing(await apiRequest<PolicyListing>('/v1/policies'));
      setListError('');
    } catch (error) {
      setListError(describeError(error));
    }
  };

  const loadPolicy = async (name: string) => {
    const loaded = await apiRequest<PolicyDetail>(`/v1/policies/${encodeURIComponent(name)}`);
    setDetail(loaded);
    return loaded;
  };

  useEffect(() => {
    void loadListing();
  }, []);

  useEffect(() => {
    const name = props.selected ?? listing?.policies[0]?.name;
    if (!name || detail?.name === name) return;
    setReport(null);
    setTestError('');
    setSaveState({ state: 'idle' });
    setShowDiff(false);
    loadPolicy(name)
      .then((loaded) => setDraft(loaded.source ?? ''))
      .catch((error: unknown) => setListError(describeError(error)));
  }, [props.selected, listing]);

  useDebouncedEffect(
    async (signal) => {
      if (!detail) return;
      if (draft.trim() === '') {
        setValidation({ state: 'invalid', errors: [{ message: 'the policy is empty' }] });
        return;
      }
      setValidation((previous) => ({ ...previous, state: 'checking' }));
      try {
        const result = await apiRequest<{ valid: boolean; revision: string }>('/v1/policies/validate', { text: draft, contentType: 'application/yaml', signal });
        if (!signal.aborted) setValidation({ state: 'valid', errors: [], revision: result.revision });
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.envelope.code === 'policy_invalid') {
          const errors = (error.envelope.errors ?? []).map((entry) => ({ line: entry.line, message: entry.message, pointer: entry.pointer || undefined }));
          setValidation({ state: 'invalid', errors: errors.length > 0 ? errors : [{ message: error.message }] });
        } else setValidation({ state: 'failed', errors: [], message: describeError(error) });
      }
    },
    [draft, detail?.name],
    300,
  );

  const loadedSource = detail?.source ?? '';
  const changed = detail !== null && draft !== loadedSource;
  const diff = showDiff && detail ? foldUnchanged(lineDiff(loadedSource, draft), 3) : [];

  const save = async () => {
    if (!detail) return;
    setSaveState({ state: 'saving' });
    try {
      const result = await apiRequest<{ name: string; revision: string }>(`/v1/policies/${encodeURIComponent(detail.name)}`, { method: 'PUT', text: draft, contentType: 'application/yaml' });
      const loaded = await loadPolicy(detail.name);
      setDraft(loaded.source ?? draft);
      setShowDiff(false);
      setReport(null);
      await loadListing();
      setSaveState({ state: 'saved', message: `Saved and reloaded: revision ${shortRevision(loaded.revision)} is live${loaded.revision !== result.revision ? ` (server answered ${shortRevision(result.revision)})` : ''}.` });
    } catch (error) {
      setSaveState({ state: 'failed', message: describeError(error) });
      if (error instanceof ApiError && error.envelope.code === 'policy_invalid') {
        setValidation({ state: 'invalid', errors: (error.envelope.errors ?? []).map((entry) => ({ line: entry.line, message: entry.message, pointer: entry.pointer || undefined })) });
      }
    }
  };

  const runTests = async () => {
    if (!detail) return;
    setTesting(true);
    setTestError('');
    try {
      setReport(await apiRequest<PolicyTestReport>(`/v1/policies/${encodeURIComponent(detail.name)}/test`, { method: 'POST' }));
    } catch (error) {
      setReport(null);
      setTestError(describeError(error));
    } finally {
      setTesting(false);
    }
  };

  return (
    <div class="policies">
      <nav class="panel policy-list" aria-labelledby="policy-list-heading">
        <h2 id="policy-list-heading">Policies</h2>
        {listError ? (
          <p class="error-banner" role="alert">
            {listError}
          </p>
        ) : null}
        <ul>
          {(listing?.policies ?? []).map((entry) => (
            <li key={entry.name}>
              <a href={`#/policies/${encodeURIComponent(entry.name)}`} class={detail?.name === entry.name ? 'current' : ''} aria-current={detail?.name === entry.name ? 'page' : undefined} onClick={() => props.onSelect(entry.name)}>
                <span class="policy-name">{entry.name}</span>
                {entry.extends ? <span class="muted"> extends {entry.extends}</span> : null}
                <span class="policy-description">{entry.description ?? ''}</span>
                <code class="revision">{shortRevision(entry.revision)}</code>
              </a>
            </li>
          ))}
        </ul>
        {(listing?.errors ?? []).length > 0 ? (
          <div class="load-errors" role="alert">
            <h3>Files that failed to load</h3>
            <ul>
              {listing!.errors.map((entry) => (
                <li key={entry.file}>
                  <code>{entry.file}</code>: {entry.errors[0]?.message ?? 'invalid'} {entry.kept_previous ? '(previous revision still served)' : ''}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
      </nav>

      <section class="panel policy-editor" aria-labelledby="policy-editor-heading">
        {detail ? (
          <>
            <div class="editor-head">
              <h2 id="policy-editor-heading">{detail.name}</h2>
              <span class="tag" id="loaded-revision" data-revision={detail.revision}>
                loaded revision {shortRevision(detail.revision)}
              </span>
              {changed ? <span class="tag unsaved">unsaved changes</span> : null}
            </div>
            <CodeEditor id="policy-source" label={`${detail.name}.yaml`} value={draft} rows={22} errors={validation.errors} onInput={setDraft} hint="Validated as you type; errors point at their line." />
            <p class={`validation-status state-${validation.state}`} role="status" aria-live="polite" id="policy-validation">
              {validation.state === 'checking'
                ? 'Validating…'
                : validation.state === 'valid'
                  ? '✓ valid'
                  : validation.state === 'invalid'
                    ? `✗ ${validation.errors.length} error${validation.errors.length === 1 ? '' : 's'}`
                    : validation.state === 'failed'
                      ? `could not validate: ${validation.message}`
                      : ''}
            </p>
            <div class="actions">
              <button type="button" id="save-policy" disabled={!changed || validation.state !== 'valid' || saveState.state === 'saving'} onClick={save}>
                {saveState.state === 'saving' ? 'Saving…' : 'Save and reload'}
              </button>
              <button type="button" class="secondary" aria-pressed={showDiff} disabled={!changed} onClick={() => setShowDiff(!showDiff)}>
                {showDiff ? 'Hide diff' : 'Diff against loaded'}
              </button>
              <button type="button" class="secondary" disabled={!changed} onClick={() => setDraft(loadedSource)}>
                Revert
              </button>
              <button type="button" class="secondary" id="run-tests" disabled={testing} onClick={runTests}>
                {testing ? 'Running tests…' : 'Run test cases'}
              </button>
            </div>
            {saveState.message ? (
              <p class={saveState.state === 'failed' ? 'error-banner' : 'success-banner'} role={saveState.state === 'failed' ? 'alert' : 'status'} id="save-status">
                {saveState.message}
              </p>
            ) : null}
            {showDiff && changed ? (
              <div class="diff" aria-label="Changes against the loaded revision" role="region" tabIndex={0}>
                {diff.map((line, index) =>
                  line.type === 'fold' ? (
                    <div key={index} class="diff-line fold">
                      <span class="diff-text">⋯ {line.count} unchanged line{line.count === 1 ? '' : 's'}</span>
                    </div>
                  ) : (
                  <div key={index} class={`diff-line ${line.type}`}>
                    <span class="diff-number">{line.oldLine ?? ''}</span>
                    <span class="diff-number">{line.newLine ?? ''}</span>
                    <span class="diff-sign" aria-label={line.type}>
                      {line.type === 'added' ? '+' : line.type === 'removed' ? '−' : ' '}
                    </span>
                    <span class="diff-text">{line.text}</span>
                  </div>
                  ),
                )}
              </div>
            ) : null}
            {testError ? (
              <p class="error-banner" role="alert">
                {testError}
              </p>
            ) : null}
            {report ? (
              <div class="test-report" id="test-report">
                <h3>
                  Test cases against revision {shortRevision(report.revision)}: <span class="pass-count">{report.passed} passed</span>,{' '}
                  <span class={report.failed > 0 ? 'fail-count' : ''}>{report.failed} failed</span>
                  {report.skipped > 0 ? `, ${report.skipped} skipped` : ''}
                </h3>
                {changed ? <p class="hint">Tests run against the loaded revision; save first to test your edits.</p> : null}
                <ul>
                  {report.results.map((result) => (
                    <li key={result.name} class={`test-${result.status}`}>
                      <span class={`badge test-badge ${result.status}`}>{result.status}</span> {result.name}
                      {result.decision ? <span class="muted"> → {result.decision}</span> : null}
                      {result.failures.length > 0 ? (
                        <ul class="failures">
                          {result.failures.map((failure, index) => (
                            <li key={index}>{failureText(failure)}</li>
                          ))}
                        </ul>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </div>
            ) : null}
          </>
        ) : (
          <p class="muted" id="policy-editor-heading">
            {listing ? 'Pick a policy.' : 'Loading policies…'}
          </p>
        )}
      </section>
    </div>
  );
}
