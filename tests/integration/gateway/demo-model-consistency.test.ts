/**
 * Issue 8 on the demo model, through a real gateway: answers about people the model was trained on
 * (models/rein-demo/world.json) are self-consistent across samples; answers about people it never saw
 * are not — on average over seeded runs. The request asks for `checks.self_consistency` (unigram-max,
 * the paper's variant), so the answer, the extra samples and the scoring all run in the gateway as a
 * user's request would. A score is in [0, 1], 1 = every sentence supported by the samples (SPEC §6).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_MODEL, REPO_ROOT, demoModelPresent, startGateway, type GatewayProcess } from '../../helpers/gateway-process';

const SEEDS = [11, 22, 33];
const SAMPLES = 6;
const PEOPLE = 8;
// Names built from first names and surnames that appear nowhere in the training world (world.py).
const INVENTED = ['Bartholomew Quince', 'Ottilie Marsh', 'Percival Drummond', 'Wilhelmina Crane', 'Cuthbert Ashdown', 'Rosalind Pike', 'Ignatius Fell', 'Hortense Vane'];

const suite = demoModelPresent() ? describe : describe.skip;

suite('self-consistency on the demo model: known facts vs invented people', () => {
  let gateway: GatewayProcess;
  const world = JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'world.json'), 'utf8')) as { people: Array<{ name: string }> };

  beforeAll(async () => {
    gateway = await startGateway({
      config: { models: [{ id: 'rein-demo', path: DEMO_MODEL }], policies: { dir: path.join(REPO_ROOT, 'tests/fixtures/policies'), default: 'permissive' } },
    });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  async function meanScore(names: string[]): Promise<{ mean: number; scores: number[] }> {
    const scores: number[] = [];
    for (const name of names) {
      for (const seed of SEEDS) {
        const response = await fetch(`${gateway.url}/v1/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            messages: [{ role: 'user', content: `Who is ${name}?` }],
            max_tokens: 40,
            temperature: 1,
            seed,
            checks: { self_consistency: { samples: SAMPLES, temperature: 1 } },
          }),
        });
        const body = (await response.json()) as { consistency?: { score: number }; error?: unknown };
        expect({ status: response.status, error: body.error }).toEqual({ status: 200, error: undefined });
        expect(body.consistency?.score).toEqual(expect.any(Number));
        scores.push(body.consistency!.score);
      }
    }
    return { mean: scores.reduce((sum, value) => sum + value, 0) / scores.length, scores };
  }

  test('answers about trained people score more consistent than answers about invented ones', async () => {
    const trainedNames = world.people.slice(0, PEOPLE).map((person) => person.name);
    for (const name of INVENTED) expect(JSON.stringify(world)).not.toContain(name.split(' ')[1]);
    const trained = await meanScore(trainedNames);
    const invented = await meanScore(INVENTED);
    // The claim of issue 8: consistent for facts it knows, inconsistent for entities it never saw.
    expect(trained.mean).toBeGreaterThan(invented.mean + 0.1);
    expect(trained.mean).toBeGreaterThan(0.5);
    expect(invented.mean).toBeLessThan(0.5);
  }, 300000);
});
