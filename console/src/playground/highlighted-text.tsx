/**
 * HighlightedText: text with the findings' evidence spans marked over it. Overlapping spans split the
 * text into segments; each marked segment names its findings (title and footnote numbers that match
 * the findings list), coloured by the strongest action.
 */
import type { Finding } from '../shared/types';

const ACTION_RANK: Record<string, number> = { allow: 0, flag: 1, sanitize: 2, redact: 3, regenerate: 3, block: 4 };

export interface NumberedFinding {
  number: number;
  finding: Finding;
}

export function HighlightedText(props: { text: string; findings: NumberedFinding[]; id?: string; label: string }) {
  const { text } = props;
  const spans: Array<{ start: number; end: number; item: NumberedFinding }> = [];
  for (const item of props.findings) {
    for (const span of item.finding.spans ?? []) {
      if (!Array.isArray(span) || span.length < 2) continue;
      const start = Math.max(0, Math.min(text.length, Math.floor(Number(span[0]))));
      const end = Math.max(start, Math.min(text.length, Math.floor(Number(span[1]))));
      if (end > start) spans.push({ start, end, item });
    }
  }
  const cuts = new Set<number>([0, text.length]);
  for (const span of spans) {
    cuts.add(span.start);
    cuts.add(span.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const parts = [];
  for (let index = 0; index + 1 < points.length; index++) {
    const start = points[index];
    const end = points[index + 1];
    const covering = spans.filter((span) => span.start <= start && span.end >= end);
    const segment = text.slice(start, end);
    if (covering.length === 0) {
      parts.push(<span key={start}>{segment}</span>);
      continue;
    }
    const strongest = covering.reduce((best, span) => ((ACTION_RANK[span.item.finding.action ?? 'flag'] ?? 1) > (ACTION_RANK[best.item.finding.action ?? 'flag'] ?? 1) ? span : best));
    const title = covering.map((span) => `[${span.item.number}] ${span.item.finding.check}: ${span.item.finding.explanation ?? span.item.finding.verdict}`).join('\n');
    const ending = covering.filter((span) => span.end === end).map((span) => span.item.number);
    parts.push(
      <mark key={start} class={`finding-mark action-${strongest.item.finding.action ?? 'flag'}${covering.length > 1 ? ' overlap' : ''}`} title={title} data-checks={covering.map((span) => span.item.finding.check).join(' ')}>
        {segment}
        {ending.length > 0 ? <sup class="ref">{[...new Set(ending)].join(',')}</sup> : null}
      </mark>,
    );
  }
  return (
    <div class="highlighted-text" id={props.id} aria-label={props.label} role="region" tabIndex={0}>
      {parts}
    </div>
  );
}
