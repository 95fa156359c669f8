/**
 * TimingsChart: the per-stage timings of a request (timings_ms) as a table with proportional bars.
 * Bar widths are set through the CSSOM (element.style), which the CSP's `style-src 'self'` allows.
 */
/** Pipeline order (ARCHITECTURE.md); stages not listed follow in their own order. */
const STAGE_ORDER = ['validate', 'resolve_policy', 'input_detectors', 'compile_constraint', 'time_to_first_token', 'generate', 'output_checks', 'self_consistency', 'audit'];

function rank(stage: string): number {
  const index = STAGE_ORDER.indexOf(stage);
  return index < 0 ? STAGE_ORDER.length : index;
}

export function TimingsChart(props: { timings: Record<string, number> | undefined; caption?: string }) {
  const entries = Object.entries(props.timings ?? {})
    .filter(([, value]) => typeof value === 'number' && Number.isFinite(value))
    .sort(([a], [b]) => rank(a) - rank(b));
  if (entries.length === 0) return <p class="muted">No timings recorded.</p>;
  const longest = Math.max(...entries.map(([, value]) => value), 1);
  return (
    <table class="timings">
      <caption>{props.caption ?? 'Per-stage timings'}</caption>
      <thead>
        <tr>
          <th scope="col">Stage</th>
          <th scope="col" class="number">ms</th>
          <th scope="col" class="bar-column">
            <span class="visually-hidden">Share</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([stage, value]) => (
          <tr key={stage}>
            <th scope="row">{stage.replace(/_/g, ' ')}</th>
            <td class="number">{value.toFixed(1)}</td>
            <td class="bar-column">
              <span class="bar" style={{ width: `${Math.max(1, (value / longest) * 100).toFixed(1)}%` }} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
