/**
 * `rein eval selfcheck`: the SPEC.md §6 report from hand-computed toy scores, the command's arguments and
 * output keys, and — on the WikiBio dev half in ../shared/data — the figures measured when this was built
 * (deterministic code, so the tolerance is only for float rounding: ±0.05 points).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeSelfcheckReport, parseSelfcheckData, run, scorePassages, type SelfcheckPassage } from '../../../src/safety/eval/selfcheck-eval';
import { describeWithSharedData, sharedDataPath } from '../../helpers/shared-data';

const toy: SelfcheckPassage[] = [
  { id: 1, passage: '', sentences: ['a', 'b'], annotation: ['major_inaccurate', 'major_inaccurate'], samples: [] },
  { id: 2, passage: '', sentences: ['a', 'b', 'c'], annotation: ['accurate', 'minor_inaccurate', 'major_inaccurate'], samples: [] },
  { id: 3, passage: '', sentences: ['a', 'b'], annotation: ['accurate', 'major_inaccurate'], samples: [] },
];
const toyRaw = [
  [0.7, 0.6],
  [0.1, 0.5, 0.9],
  [0.8, 0.2],
];

describe('computeSelfcheckReport', () => {
  it('matches hand-computed AUC-PR and correlations, dropping all-major passages from NonFact*', () => {
    const report = computeSelfcheckReport(toy, toyRaw, 'unigram-max', 20);
    expect(Object.keys(report)).toEqual(['passages', 'sentences', 'variant', 'samples', 'auc_pr', 'pearson', 'spearman']);
    expect(Object.keys(report.auc_pr)).toEqual(['nonfact', 'nonfact_star', 'factual']);
    expect(report).toMatchObject({ passages: 3, sentences: 7, variant: 'unigram-max', samples: 20 });
    // NonFact: labels 1101101 ranked by raw → trapezoids .2 + .116667 + .141667 + .155 + .163333.
    expect(report.auc_pr.nonfact).toBeCloseTo(77.67, 2);
    // NonFact*: passages 2 and 3 only, major = positive → .5·(.5+1/3)/2 + .5 = .708333.
    expect(report.auc_pr.nonfact_star).toBeCloseTo(70.83, 2);
    // Factual: accurate = positive, ranked by −raw → .5·(1/3+.2)/2 + .5 = .633333.
    expect(report.auc_pr.factual).toBeCloseTo(63.33, 2);
    // Passage level: human [1, .5, .5], predicted [.65, .5, .5] → perfectly correlated.
    expect(report.pearson).toBeCloseTo(100, 6);
    expect(report.spearman).toBeCloseTo(100, 6);
  });

  it('rejects malformed data with the first problem', () => {
    expect(() => parseSelfcheckData('{')).toThrow('not JSON');
    expect(() => parseSelfcheckData('{}')).toThrow('JSON array');
    expect(() => parseSelfcheckData(JSON.stringify([{ passage: 'p', sentences: ['s'], annotation: ['wrong'], samples: [] }]))).toThrow("unknown annotation 'wrong'");
    expect(() => parseSelfcheckData(JSON.stringify([{ passage: 'p', sentences: ['s'], annotation: [], samples: [] }]))).toThrow('annotation must match');
  });
});

describe('rein eval selfcheck arguments', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  it('exits 2 on missing or bad arguments', async () => {
    expect(await run([])).toBe(2);
    expect(await run(['--data', 'x.json', '--variant', 'bertscore'])).toBe(2);
    expect(await run(['--data', 'x.json', '--samples', '0'])).toBe(2);
    expect(await run(['--data', 'x.json', '--bogus', '1'])).toBe(2);
    expect(await run(['--data', path.join(os.tmpdir(), 'rein-no-such-file.json')])).toBe(2);
  });

  it('writes the report to --out and stdout for a small data file', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-selfcheck-'));
    const data = path.join(directory, 'data.json');
    const out = path.join(directory, 'out.json');
    const passage = 'Ada Lovelace was a mathematician. She was born on the Moon.';
    fs.writeFileSync(
      data,
      JSON.stringify([
        { id: 'x', passage, sentences: ['Ada Lovelace was a mathematician.', 'She was born on the Moon.'], annotation: ['accurate', 'major_inaccurate'], samples: ['Ada Lovelace was a mathematician born in London.', 'Ada Lovelace, a mathematician, was born in London.'] },
        { id: 'y', passage: 'Alan Turing was a logician. He invented jazz.', sentences: ['Alan Turing was a logician.', 'He invented jazz.'], annotation: ['accurate', 'minor_inaccurate'], samples: ['Alan Turing was a logician and computer scientist.', 'Alan Turing, the logician, broke codes.'] },
      ]),
    );
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await run(['--data', data, '--samples', '1', '--out', out, '--calibrate', path.join(directory, 'calibration.json')])).toBe(0);
    } finally {
      stdout.mockRestore();
    }
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(report).toMatchObject({ passages: 2, sentences: 4, variant: 'unigram-max', samples: 1 });
    // The made-up sentences rank first: a perfect NonFact ranking.
    expect(report.auc_pr.nonfact).toBe(100);
    const calibration = JSON.parse(fs.readFileSync(path.join(directory, 'calibration.json'), 'utf8'));
    expect(calibration.split).toEqual({ calibration_passages: 1, heldout_passages: 1 });
    // The made-up sentence of the first passage scores lower than its true one, so the chosen threshold separates them.
    expect(calibration.sentence.calibration).toMatchObject({ tpr: 1, fpr: 0 });
    fs.rmSync(directory, { recursive: true, force: true });
  });
});

describeWithSharedData('rein eval selfcheck on the WikiBio dev half', ['selfcheck-dev', 'wikibio-hallucination-part1.json'], () => {
  let passages: SelfcheckPassage[];
  beforeAll(() => {
    passages = parseSelfcheckData(fs.readFileSync(sharedDataPath('selfcheck-dev', 'wikibio-hallucination-part1.json'), 'utf8'));
  });

  // Measured with this code (rein eval selfcheck --data …/wikibio-hallucination-part1.json --variant V [--samples N]).
  // The paper's unigram-max figures on all 238 passages: NonFact 85.63, NonFact* 41.04, Factual 58.47, Pearson 64.71, Spearman 64.91.
  it.each([
    ['unigram-max', 20, { nonfact: 87.98, nonfact_star: 42.78, factual: 57.32 }, 68.27, 69.4],
    ['unigram-avg', 20, { nonfact: 81.33, nonfact_star: 38.73, factual: 41.38 }, 35.1, 33.35],
    ['unigram-max', 4, { nonfact: 85.06, nonfact_star: 37.26, factual: 52.13 }, 56.16, 56.29],
    ['ngram', 20, { nonfact: 87.56, nonfact_star: 42.45, factual: 56.98 }, 65.79, 68.87],
  ] as const)('%s with %d samples reproduces the measured figures', async (variant, samples, auc, pearsonValue, spearmanValue) => {
    const raw = await scorePassages(passages, variant, { samples });
    const report = computeSelfcheckReport(passages, raw, variant, samples);
    expect(report.passages).toBe(119);
    expect(report.sentences).toBe(959);
    expect(report.auc_pr.nonfact).toBeCloseTo(auc.nonfact, 1);
    expect(report.auc_pr.nonfact_star).toBeCloseTo(auc.nonfact_star, 1);
    expect(report.auc_pr.factual).toBeCloseTo(auc.factual, 1);
    expect(report.pearson).toBeCloseTo(pearsonValue, 1);
    expect(report.spearman).toBeCloseTo(spearmanValue, 1);
    if (variant === 'unigram-max' && samples === 20) {
      // Within a few points of the paper's full-set figures (a different half, so not identical).
      expect(Math.abs(report.auc_pr.nonfact - 85.63)).toBeLessThan(3);
      expect(Math.abs(report.auc_pr.factual - 58.47)).toBeLessThan(3);
    }
  });
});
