/**
 * DecisionBadge: a decision (allow … block) as a coloured label with the word spelled out (never colour alone).
 */
export function DecisionBadge(props: { decision: string | null | undefined; label?: string }) {
  const decision = props.decision ?? 'none';
  return (
    <span class={`badge decision-${decision}`} data-decision={decision}>
      {props.label ? `${props.label}: ` : ''}
      {decision}
    </span>
  );
}
