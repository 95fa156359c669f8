/**
 * CodeEditor: a plain textarea with a line-number gutter that marks the lines with errors, and the
 * error list under it (each entry jumps to its line). Plain text editing keeps it accessible and
 * small; the gutter scrolls with the text.
 */
import { useEffect, useRef } from 'preact/hooks';

export interface EditorError {
  line?: number;
  column?: number;
  message: string;
  pointer?: string;
}

export interface CodeEditorProps {
  id: string;
  label: string;
  value: string;
  onInput(value: string): void;
  errors?: EditorError[];
  rows?: number;
  hint?: string;
  spellcheck?: boolean;
}

function selectLine(textarea: HTMLTextAreaElement, line: number): void {
  const lines = textarea.value.split('\n');
  const index = Math.max(0, Math.min(line, lines.length) - 1);
  let start = 0;
  for (let current = 0; current < index; current++) start += lines[current].length + 1;
  textarea.focus();
  textarea.setSelectionRange(start, start + lines[index].length);
  const lineHeight = textarea.scrollHeight / Math.max(1, lines.length);
  textarea.scrollTop = Math.max(0, lineHeight * (index - 3));
}

export function CodeEditor(props: CodeEditorProps) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const errors = props.errors ?? [];
  const errorLines = new Set(errors.map((error) => error.line).filter((line): line is number => line !== undefined));
  const lineCount = props.value.split('\n').length;
  const errorListId = `${props.id}-errors`;

  useEffect(() => {
    if (gutter.current && textarea.current) gutter.current.scrollTop = textarea.current.scrollTop;
  });

  return (
    <div class="code-editor">
      <label for={props.id}>{props.label}</label>
      {props.hint ? <p class="hint">{props.hint}</p> : null}
      <div class={`code-frame${errors.length > 0 ? ' has-errors' : ''}`}>
        <div class="gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lineCount }, (_, index) => (
            <div key={index} class={errorLines.has(index + 1) ? 'gutter-line error' : 'gutter-line'} data-line={index + 1}>
              {index + 1}
            </div>
          ))}
        </div>
        <textarea
          id={props.id}
          ref={textarea}
          value={props.value}
          rows={props.rows ?? 16}
          spellcheck={props.spellcheck ?? false}
          autocomplete="off"
          autocapitalize="off"
          wrap="off"
          aria-invalid={errors.length > 0}
          aria-describedby={errors.length > 0 ? errorListId : undefined}
          onInput={(event) => props.onInput((event.currentTarget as HTMLTextAreaElement).value)}
          onScroll={(event) => {
            if (gutter.current) gutter.current.scrollTop = (event.currentTarget as HTMLTextAreaElement).scrollTop;
          }}
          onKeyDown={(event) => {
            // Tab inserts two spaces (YAML); Escape then Tab leaves the field, so keyboard users are never trapped.
            if (event.key === 'Tab' && !event.shiftKey && !(event.currentTarget as HTMLTextAreaElement).dataset.escaped) {
              event.preventDefault();
              const target = event.currentTarget as HTMLTextAreaElement;
              const start = target.selectionStart;
              target.setRangeText('  ', start, target.selectionEnd, 'end');
              props.onInput(target.value);
            }
            const target = event.currentTarget as HTMLTextAreaElement;
            if (event.key === 'Escape') target.dataset.escaped = '1';
            else if (event.key !== 'Tab') delete target.dataset.escaped;
          }}
        />
      </div>
      {errors.length > 0 ? (
        <ul class="editor-errors" id={errorListId} role="alert">
          {errors.map((error, index) => (
            <li key={index}>
              {error.line !== undefined ? (
                <button type="button" class="link" onClick={() => textarea.current && selectLine(textarea.current, error.line!)}>
                  Line {error.line}
                  {error.column !== undefined ? `:${error.column}` : ''}
                </button>
              ) : null}
              <span class="error-message">
                {error.pointer ? <code>{error.pointer}</code> : null} {error.message}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
