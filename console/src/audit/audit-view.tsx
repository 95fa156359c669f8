/**
 * AuditView: the audit trail. Filters (decision, policy, time range) go to GET /v1/audit; the search
 * box narrows the loaded page in the browser; a record opens with its input and output as the audit
 * level kept them, findings, policy revision and timings. Shows chain verification (GET
 * /v1/audit/verify) and exports the filtered records as NDJSON (GET /v1/audit/export).
 */
import { useEffect, useState } from 'preact/hooks';
import { apiRequest, describeError, rawRequest } from '../shared/api-client';
import { DecisionBadge } from '../shared/decision-badge';
import { DECISIONS, type AuditRecord, type Finding, type VerifyResult } from '../shared/types';
import { FindingsList } from '../playground/findings-list';
import { TimingsChart } from '../playground/timings-chart';

interface Filters {
  decision: string;
  policy: string;
  since: string;
  until: string;
}

function isoFromLocal(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function query(filters: Filters, extra: Record<string, string | undefined> = {}): string {
  const parameters = new URLSearchParams();
  const entries: Record<string, string | undefined> = {
    decision: filters.decision || undefined,
    policy: filters.policy.trim() || undefined,
    since: isoFromLocal(filters.since),
    until: isoFromLocal(filters.until),
    ...extra,
  };
  for (const [key, value] of Object.entries(entries)) if (value !== undefined) parameters.set(key, value);
  const text = parameters.toString();
  return text ? `?${text}` : '';
}

function route(record: AuditRecord): string {
  return String(record.event.attributes?.['http.route'] ?? '–');
}

function status(record: AuditRecord): string {
  return String(record.event.attributes?.['http.response.status_code'] ?? '–');
}

function searchable(record: AuditRecord): string {
  return JSON.stringify([record.id, record.event.request_id, record.event.policy?.name, record.event.decision, record.event.input, record.event.output, (record.event.findings ?? []).map((finding) => finding.check)]).toLowerCase();
}

/** The text parts an audit event kept, whatever its level: {parts: [{source, text}]}, {choices: [{text}]}, strings, or hashes. */
function KeptContent(props: { value: unknown; label: string }) {
  const value = props.value;
  if (value === null || value === undefined) return <p class="muted">Not recorded.</p>;
  const record = value as Record<string, unknown>;
  const level = typeof record.level === 'string' ? record.level : undefined;
  const items = (Array.isArray(record.parts) ? record.parts : Array.isArray(record.choices) ? record.choices : undefined) as Array<Record<string, unknown>> | undefined;
  if (items) {
    return (
      <div class="kept">
        {level ? <p class="hint">kept at level: {level}</p> : null}
        {items.map((item, index) => (
          <div key={index} class="kept-part">
            <span class="tag">{String(item.source ?? item.role ?? (item.index !== undefined ? `choice ${String(item.index)}` : `part ${index + 1}`))}</span>
            {typeof item.text === 'string' ? <pre class="code wrap">{item.text}</pre> : <pre class="code wrap">{JSON.stringify(item, null, 2)}</pre>}
          </div>
        ))}
      </div>
    );
  }
  return <pre class="code wrap">{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>;
}

export function AuditView(props: { selected?: string; onSelect(id: string | undefined): void }) {
  const [filters, setFilters] = useState<Filters>({ decision: '', policy: '', since: '', until: '' });
  const [records, setRecords] = useState<AuditRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState('');
  const [search, setSearch] = useState('');
  const [verify, setVerify] = useState<{ state: 'checking' | 'done' | 'failed'; result?: VerifyResult; message?: string }>({ state: 'checking' });
  const [opened, setOpened] = useState<{ record?: AuditRecord; error?: string } | null>(null);
  const [exportState, setExportState] = useState('');

  const load = async (append: boolean) => {
    setLoading(true);
    setError('');
    try {
      const page = await apiRequest<{ records: AuditRecord[]; next_cursor: string | null }>(`/v1/audit${query(filters, { limit: '50', cursor: append ? cursor ?? undefined : undefined })}`);
      setRecords(append ? [...records, ...page.records] : page.records);
      setCursor(page.next_cursor);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setLoading(false);
    }
  };

  const runVerify = async () => {
    setVerify({ state: 'checking' });
    try {
      setVerify({ state: 'done', result: await apiRequest<VerifyResult>('/v1/audit/verify', { allowStatus: [409] }) });
    } catch (failure) {
      setVerify({ state: 'failed', message: describeError(failure) });
    }
  };

  useEffect(() => {
    void load(false);
    void runVerify();
  }, []);

  useEffect(() => {
    if (!props.selected) {
      setOpened(null);
      return;
    }
    const known = records.find((record) => record.id === props.selected);
    if (known) setOpened({ record: known });
    apiRequest<AuditRecord>(`/v1/audit/${encodeURIComponent(props.selected)}`)
      .then((record) => setOpened({ record }))
      .catch((failure: unknown) => setOpened({ error: describeError(failure) }));
  }, [props.selected]);

  const exportRecords = async () => {
    setExportState('Exporting…');
    try {
      const response = await rawRequest(`/v1/audit/export${query(filters)}`, { method: 'GET' });
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `rein-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExportState(`Exported ${blob.size.toLocaleString()} bytes.`);
    } catch (failure) {
      setExportState(`Export failed: ${describeError(failure)}`);
    }
  };

  const needle = search.trim().toLowerCase();
  const shown = needle ? records.filter((record) => searchable(record).includes(needle)) : records;
  const verified = verify.result;
  const record = opened?.record;

  return (
    <div class="audit">
      <section class="panel audit-list-panel" aria-labelledby="audit-heading">
        <div class="editor-head">
          <h2 id="audit-heading">Audit trail</h2>
          <p class={`chain-status ${verify.state === 'done' ? (verified?.ok ? 'ok' : 'bad') : verify.state}`} role="status" id="chain-status">
            {verify.state === 'checking'
              ? 'Verifying the hash chain…'
              : verify.state === 'failed'
                ? `Chain not verified: ${verify.message}`
                : verified?.ok
                  ? `✓ Chain verified: ${verified.records} records${verified.head ? `, head #${verified.head.seq}` : ''}`
                  : `✗ Chain broken${verified && !verified.ok && verified.first_bad ? ` at record #${verified.first_bad.seq} (${verified.first_bad.id}): ${verified.first_bad.reason}` : ''}`}
            <button type="button" class="link" onClick={runVerify}>
              Re-verify
            </button>
          </p>
        </div>
        <form
          class="filters"
          onSubmit={(event) => {
            event.preventDefault();
            void load(false);
          }}
        >
          <div class="field">
            <label for="filter-decision">Decision</label>
            <select id="filter-decision" value={filters.decision} onChange={(event) => setFilters({ ...filters, decision: (event.currentTarget as HTMLSelectElement).value })}>
              <option value="">any</option>
              {DECISIONS.map((decision) => (
                <option key={decision} value={decision}>
                  {decision}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="filter-policy">Policy</label>
            <input id="filter-policy" value={filters.policy} maxLength={128} onInput={(event) => setFilters({ ...filters, policy: (event.currentTarget as HTMLInputElement).value })} />
          </div>
          <div class="field">
            <label for="filter-since">Since</label>
            <input id="filter-since" type="datetime-local" value={filters.since} onInput={(event) => setFilters({ ...filters, since: (event.currentTarget as HTMLInputElement).value })} />
          </div>
          <div class="field">
            <label for="filter-until">Until</label>
            <input id="filter-until" type="datetime-local" value={filters.until} onInput={(event) => setFilters({ ...filters, until: (event.currentTarget as HTMLInputElement).value })} />
          </div>
          <div class="actions">
            <button type="submit" disabled={loading}>
              {loading ? 'Loading…' : 'Apply filters'}
            </button>
            <button type="button" class="secondary" onClick={exportRecords}>
              Export NDJSON
            </button>
          </div>
        </form>
        {exportState ? (
          <p class="hint" role="status">
            {exportState}
          </p>
        ) : null}
        <div class="field search">
          <label for="audit-search">Search the loaded records</label>
          <input id="audit-search" type="search" placeholder="id, request id, check, text…" value={search} onInput={(event) => setSearch((event.currentTarget as HTMLInputElement).value)} />
        </div>
        {error ? (
          <p class="error-banner" role="alert">
            {error}
          </p>
        ) : null}
        <div class="table-scroll">
          <table class="audit-table" id="audit-table">
            <caption class="visually-hidden">Audit records, newest first</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Decision</th>
                <th scope="col">Policy</th>
                <th scope="col">Route</th>
                <th scope="col">Status</th>
                <th scope="col">Record</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((entry) => (
                <tr key={entry.id} class={props.selected === entry.id ? 'selected' : ''} data-id={entry.id}>
                  <td class="number">{entry.seq}</td>
                  <td>
                    <time dateTime={entry.time}>{new Date(entry.time).toLocaleString()}</time>
                  </td>
                  <td>
                    <DecisionBadge decision={entry.event.decision} />
                  </td>
                  <td>{entry.event.policy?.name ?? '–'}</td>
                  <td>
                    <code>{route(entry)}</code>
                  </td>
                  <td class="number">{status(entry)}</td>
                  <td>
                    <a href={`#/audit/${encodeURIComponent(entry.id)}`} title={entry.id} onClick={() => props.onSelect(entry.id)}>
                      {/* Ids lead with their creation time, so the random tail tells rows apart. */}
                      …{entry.id.slice(-12)}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {shown.length === 0 && !loading ? <p class="muted">No records match.</p> : null}
        {cursor ? (
          <button type="button" class="secondary" disabled={loading} onClick={() => load(true)}>
            Load older records
          </button>
        ) : null}
      </section>

      {opened ? (
        <section class="panel audit-detail" aria-labelledby="record-heading" id="audit-detail">
          <div class="editor-head">
            <h2 id="record-heading">Record {record ? `#${record.seq}` : ''}</h2>
            {record ? <DecisionBadge decision={record.event.decision} label="Decision" /> : null}
            <button type="button" class="secondary small" onClick={() => props.onSelect(undefined)}>
              Close
            </button>
          </div>
          {opened.error ? (
            <p class="error-banner" role="alert">
              {opened.error}
            </p>
          ) : null}
          {record ? (
            <>
              <dl class="facts">
                <dt>Id</dt>
                <dd>
                  <code>{record.id}</code>
                </dd>
                <dt>Time</dt>
                <dd>{record.time}</dd>
                <dt>Request id</dt>
                <dd>
                  <code>{record.event.request_id ?? '–'}</code>
                </dd>
                <dt>API key</dt>
                <dd>{record.event.api_key_id ?? 'none (anonymous)'}</dd>
                <dt>Policy</dt>
                <dd>
                  {record.event.policy ? (
                    <>
                      {record.event.policy.name} <code class="revision">{record.event.policy.revision}</code>
                    </>
                  ) : (
                    '–'
                  )}
                </dd>
                <dt>Audit level</dt>
                <dd>{record.event.audit_level ?? '–'}</dd>
                <dt>Route</dt>
                <dd>
                  <code>{route(record)}</code> → {status(record)}
                  {record.event.attributes?.['error.type'] ? ` (${String(record.event.attributes['error.type'])})` : ''}
                </dd>
                <dt>Hash</dt>
                <dd>
                  <code class="revision">{record.hash ?? '–'}</code>
                </dd>
              </dl>
              <h3>Input</h3>
              <KeptContent value={record.event.input} label="input" />
              <h3>Output</h3>
              <KeptContent value={record.event.output} label="output" />
              <h3>Findings</h3>
              <FindingsList findings={(record.event.findings ?? []).map((finding: Finding, index: number) => ({ number: index + 1, finding }))} />
              <h3>Timings</h3>
              <TimingsChart timings={record.event.timings_ms} />
              <details>
                <summary>Attributes</summary>
                <pre class="code wrap">{JSON.stringify(record.event.attributes ?? {}, null, 2)}</pre>
              </details>
            </>
          ) : null}
        </section>
      ) : null}
    </div>
  );
}
