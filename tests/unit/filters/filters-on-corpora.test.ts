/**
 * False positives in the wild: 2.2 MB of English prose (Shakespeare, WikiText-2 validation) contain
 * no personal data or secrets, so the pii and secrets filters must find nothing there. (These corpora
 * were not used to write or tune the filters.)
 */
import fs from 'node:fs';
import { describeWithSharedData, sharedDataPath } from '../../helpers/shared-data';
import { createPiiFilter } from '../../../src/safety/filters/pii-filter';
import { createSecretsFilter } from '../../../src/safety/filters/secrets-filter';

describeWithSharedData('pii and secrets filters on prose corpora', ['corpus'], () => {
  test.each(['tinyshakespeare.txt', 'wikitext-2-valid.txt'])('%s: nothing found', (file) => {
    const text = fs.readFileSync(sharedDataPath('corpus', file), 'utf8');
    expect(text.length).toBeGreaterThan(1_000_000);
    const found = [...createPiiFilter().scan(text, {}), ...createSecretsFilter().scan(text, {})].map((match) => `${match.entity}: ${text.slice(match.start, match.end)}`);
    expect(found).toEqual([]);
  });
});
