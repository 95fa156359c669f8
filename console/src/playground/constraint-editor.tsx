/**
 * ConstraintEditor: picks and edits the constraint (JSON Schema, GBNF, regex, choices) and shows its
 * compile errors as you type: JSON syntax in the browser, then the gateway's own compiler through
 * POST /console/api/constraint/check (debounced; nothing is generated or audited).
 */
import { useState } from 'preact/hooks';
import { apiRequest, describeError } from '../shared/api-client';
import { CodeEditor, type EditorError } from '../shared/code-editor';
import { parseJsonText } from '../shared/json-position';
import { useDebouncedEffect } from '../shared/use-debounced';

export type ConstraintKind = 'none' | 'json_schema' | 'grammar' | 'regex' | 'choice';

export interface ConstraintDraft {
  kind: ConstraintKind;
  schema: string;
  grammar: string;
  regex: string;
  choices: string;
}

export const EXAMPLE_CONSTRAINT: ConstraintDraft = {
  kind: 'none',
  schema: JSON.stringify(
    { type: 'object', properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer', minimum: 0, maximum: 120 } }, required: ['name', 'age'], additionalProperties: false },
    null,
    2,
  ),
  grammar: 'root   ::= answer " because " reason\nanswer ::= "yes" | "no"\nreason ::= [a-z ]{1,40}',
  regex: '\\d{3}-\\d{4}',
  choices: 'yes\nno\nmaybe',
};

export type ConstraintBuild = { ok: true; constraint: Record<string, unknown> | undefined } | { ok: false; errors: EditorError[] };

/** The request's `constraint` for a draft, or the local errors that stop it being sent. */
export function buildConstraint(draft: ConstraintDraft): ConstraintBuild {
  switch (draft.kind) {
    case 'none':
      return { ok: true, constraint: undefined };
    case 'json_schema': {
      const parsed = parseJsonText(draft.schema);
      if (!parsed.ok) return { ok: false, errors: [{ line: parsed.line, column: parsed.column, message: `not JSON: ${parsed.message}` }] };
      return { ok: true, constraint: { type: 'json_schema', schema: parsed.value } };
    }
    case 'grammar':
      return { ok: true, constraint: { type: 'grammar', grammar: draft.grammar } };
    case 'regex':
      return { ok: true, constraint: { type: 'regex', pattern: draft.regex } };
    case 'choice': {
      const choices = draft.choices.split('\n').filter((line) => line.length > 0);
      if (choices.length === 0) return { ok: false, errors: [{ message: 'give at least one choice, one per line' }] };
      return { ok: true, constraint: { type: 'choice', choices } };
    }
  }
}

interface CheckResult {
  ok: boolean;
  error?: { code: string; message: string; line?: number; column?: number; pointer?: string; offset?: number };
}

export function ConstraintEditor(props: { draft: ConstraintDraft; lexical?: { include?: string[]; exclude?: string[] }; onChange(draft: ConstraintDraft): void }) {
  const { draft } = props;
  const source = draft.kind === 'json_schema' ? draft.schema : draft.kind === 'grammar' ? draft.grammar : draft.kind === 'regex' ? draft.regex : draft.choices;
  // Each result remembers what it checked: a stale result never shows as the current text's.
  const lexicalKey = JSON.stringify(props.lexical ?? null);
  const key = `${draft.kind}\u0000${source}\u0000${lexicalKey}`;
  const [checked, setChecked] = useState<{ key: string; kind: ConstraintKind; state: 'idle' | 'ok' | 'error'; errors: EditorError[]; note?: string }>({ key: '', kind: 'none', state: 'idle', errors: [] });
  const setStatus = (result: { state: 'idle' | 'ok' | 'error'; errors: EditorError[]; note?: string }) => setChecked({ key, kind: draft.kind, ...result });
  const status = {
    state: checked.key === key ? checked.state : 'checking',
    // While a new check runs, keep showing the last errors of the same kind (they are usually still there).
    errors: checked.kind === draft.kind ? checked.errors : [],
    note: checked.note,
  };

  useDebouncedEffect(
    async (signal) => {
      const built = buildConstraint(draft);
      if (!built.ok) {
        setStatus({ state: 'error', errors: built.errors });
        return;
      }
      if (!built.constraint) {
        setStatus({ state: 'idle', errors: [] });
        return;
      }
      try {
        const result = await apiRequest<CheckResult>('/console/api/constraint/check', { json: { constraint: built.constraint, ...(props.lexical ? { lexical: props.lexical } : {}) }, signal });
        if (signal.aborted) return;
        if (result.ok) setStatus({ state: 'ok', errors: [], note: 'compiles' });
        else {
          const error = result.error!;
          const line = error.line ?? (draft.kind === 'regex' ? 1 : undefined);
          setStatus({ state: 'error', errors: [{ line, column: error.column, pointer: error.pointer, message: `${error.code}: ${error.message}` }] });
        }
      } catch (error) {
        if (signal.aborted) return;
        setStatus({ state: 'error', errors: [{ message: `could not check: ${describeError(error)}` }] });
      }
    },
    [draft.kind, source, lexicalKey],
    350,
  );

  const update = (changes: Partial<ConstraintDraft>) => props.onChange({ ...draft, ...changes });
  return (
    <fieldset class="constraint-editor">
      <legend>Constraint</legend>
      <div class="segmented" role="radiogroup" aria-label="Constraint type">
        {(
          [
            ['none', 'None'],
            ['json_schema', 'JSON Schema'],
            ['grammar', 'GBNF'],
            ['regex', 'Regex'],
            ['choice', 'Choices'],
          ] as Array<[ConstraintKind, string]>
        ).map(([kind, label]) => (
          <label key={kind} class={draft.kind === kind ? 'selected' : ''}>
            <input type="radio" name="constraint-kind" value={kind} checked={draft.kind === kind} onChange={() => update({ kind })} />
            {label}
          </label>
        ))}
      </div>
      {draft.kind === 'json_schema' ? (
        <CodeEditor id="constraint-schema" label="JSON Schema" value={draft.schema} rows={10} errors={status.errors} onInput={(schema) => update({ schema })} />
      ) : null}
      {draft.kind === 'grammar' ? (
        <CodeEditor id="constraint-grammar" label="GBNF grammar (root rule: root)" value={draft.grammar} rows={8} errors={status.errors} onInput={(grammar) => update({ grammar })} />
      ) : null}
      {draft.kind === 'regex' ? (
        <CodeEditor id="constraint-regex" label="Regular expression (matches the whole output)" value={draft.regex} rows={2} errors={status.errors} onInput={(regex) => update({ regex })} />
      ) : null}
      {draft.kind === 'choice' ? (
        <CodeEditor id="constraint-choices" label="Choices, one per line" value={draft.choices} rows={5} errors={status.errors} onInput={(choices) => update({ choices })} />
      ) : null}
      {draft.kind !== 'none' ? (
        <p class={`compile-status state-${status.state}`} role="status" aria-live="polite" id="constraint-status">
          {status.state === 'checking' ? 'Checking…' : status.state === 'ok' ? `✓ ${status.note}` : status.state === 'error' ? '✗ does not compile' : ''}
        </p>
      ) : null}
    </fieldset>
  );
}
