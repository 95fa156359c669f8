/**
 * FindingsList: every finding with its number (matching the marks over the text), verdict, action,
 * score and explanation. Passing checks are folded away under a summary.
 */
import type { NumberedFinding } from './highlighted-text';

function score(value: number | undefined): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(2) : '–';
}

export function FindingsList(props: { findings: NumberedFinding[] }) {
  const raised = props.findings.filter((item) => item.finding.verdict !== 'pass');
  const passed = props.findings.filter((item) => item.finding.verdict === 'pass');
  const row = (item: NumberedFinding) => {
    const finding = item.finding;
    return (
      <li key={item.number} class={`finding verdict-${finding.verdict} action-${finding.action ?? 'allow'}`}>
        <span class="finding-number">{item.number}</span>
        <div class="finding-body">
          <div class="finding-head">
            <strong>{finding.id && finding.id !== finding.check ? `${finding.check} (${finding.id})` : finding.check}</strong>
            <span class="tag">{finding.stage ?? '–'}{finding.source ? ` · ${finding.source}` : ''}</span>
            <span class={`tag verdict-tag verdict-${finding.verdict}`}>{finding.verdict}</span>
            {finding.action ? <span class={`tag action-tag action-${finding.action}`}>{finding.action}</span> : null}
            {finding.enforced === false ? <span class="tag shadow">shadow</span> : null}
            <span class="tag">score {score(finding.score)}</span>
          </div>
          {finding.explanation ? <p class="finding-explanation">{finding.explanation}</p> : null}
          {finding.error ? <p class="finding-error">error: {finding.error}</p> : null}
        </div>
      </li>
    );
  };
  return (
    <div class="findings">
      {raised.length > 0 ? <ol class="finding-list">{raised.map(row)}</ol> : <p class="muted">No check raised anything.</p>}
      {passed.length > 0 ? (
        <details>
          <summary>{passed.length} passing checks</summary>
          <ol class="finding-list">{passed.map(row)}</ol>
        </details>
      ) : null}
    </div>
  );
}
