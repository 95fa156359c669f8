/**
 * The console's entry point: the header (navigation and the API key, kept in sessionStorage only) and
 * a hash router over the three views — #/playground, #/policies[/NAME], #/audit[/ID].
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AuditView } from './audit/audit-view';
import { readApiKey, writeApiKey } from './shared/key-store';
import { PlaygroundView } from './playground/playground-view';
import { PolicyEditorView } from './policies/policy-editor-view';

type Route = { view: 'playground' } | { view: 'policies'; name?: string } | { view: 'audit'; id?: string };

function parseRoute(hash: string): Route {
  const [view, argument] = hash.replace(/^#\/?/, '').split('/');
  const value = argument ? decodeURIComponent(argument) : undefined;
  if (view === 'policies') return { view: 'policies', name: value };
  if (view === 'audit') return { view: 'audit', id: value };
  return { view: 'playground' };
}

function ApiKeyForm(props: { onChange(): void }) {
  const [draft, setDraft] = useState('');
  const [stored, setStored] = useState(readApiKey() !== '');
  return (
    <form
      class="key-form"
      onSubmit={(event) => {
        event.preventDefault();
        writeApiKey(draft.trim());
        setStored(draft.trim() !== '');
        setDraft('');
        props.onChange();
      }}
    >
      <label for="api-key">API key</label>
      <input id="api-key" type="password" autocomplete="off" placeholder={stored ? 'key set for this tab' : 'Bearer key (optional)'} value={draft} onInput={(event) => setDraft((event.currentTarget as HTMLInputElement).value)} />
      <button type="submit" class="secondary small">
        Use
      </button>
      {stored ? (
        <button
          type="button"
          class="secondary small"
          onClick={() => {
            writeApiKey('');
            setStored(false);
            props.onChange();
          }}
        >
          Forget
        </button>
      ) : null}
    </form>
  );
}

function App() {
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));
  // Bumped when the key changes: remounts the view so it reloads with the new key.
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    document.title = `${route.view === 'playground' ? 'Playground' : route.view === 'policies' ? 'Policies' : 'Audit'} · Rein console`;
  }, [route.view]);
  const tab = (view: Route['view'], label: string) => (
    <a href={`#/${view}`} class={route.view === view ? 'tab current' : 'tab'} aria-current={route.view === view ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top-bar">
        <div class="brand">
          <span class="logo" aria-hidden="true">
            R
          </span>
          <span>
            Rein <span class="muted">console</span>
          </span>
        </div>
        <nav class="tabs" aria-label="Console sections">
          {tab('playground', 'Playground')}
          {tab('policies', 'Policies')}
          {tab('audit', 'Audit')}
        </nav>
        <ApiKeyForm onChange={() => setGeneration(generation + 1)} />
      </header>
      <main id="main" tabIndex={-1} key={generation}>
        <h1 class="visually-hidden">Rein console</h1>
        {route.view === 'playground' ? <PlaygroundView /> : null}
        {route.view === 'policies' ? <PolicyEditorView selected={route.name} onSelect={(name) => (location.hash = `#/policies/${encodeURIComponent(name)}`)} /> : null}
        {route.view === 'audit' ? <AuditView selected={route.id} onSelect={(id) => (location.hash = id ? `#/audit/${encodeURIComponent(id)}` : '#/audit')} /> : null}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
