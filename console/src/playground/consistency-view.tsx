/**
 * ConsistencyView: per-sentence self-consistency, each sentence coloured by its score band (five
 * classes, from "contradicted by the samples" to "supported"), with the number in its title and a legend.
 */
import type { ConsistencySentence } from '../shared/types';

const BANDS = ['very low', 'low', 'mixed', 'high', 'very high'];

export function band(score: number): number {
  if (!Number.isFinite(score)) return 0;
  return Math.max(0, Math.min(4, Math.floor(score * 5)));
}

export function ConsistencyView(props: { score: number; sentences: ConsistencySentence[] }) {
  return (
    <div class="consistency">
      <p>
        Overall consistency <strong>{props.score.toFixed(2)}</strong> ({BANDS[band(props.score)]}): each sentence is coloured by how well the extra samples support it.
      </p>
      <p class="consistency-text">
        {props.sentences.map((sentence, index) => (
          <span key={index} class={`sentence consistency-${band(sentence.score)}`} title={`consistency ${sentence.score.toFixed(2)}`}>
            {sentence.text}{' '}
          </span>
        ))}
      </p>
      <ul class="legend" aria-label="Consistency legend">
        {BANDS.map((name, index) => (
          <li key={name}>
            <span class={`swatch consistency-${index}`} aria-hidden="true" /> {name} ({(index / 5).toFixed(1)}–{((index + 1) / 5).toFixed(1)})
          </li>
        ))}
      </ul>
    </div>
  );
}
