import { createSecretsFilter, shannonEntropy } from '../../../src/safety/filters/secrets-filter';

const filter = createSecretsFilter({ hashKey: 'k' });
const found = (text: string) => filter.scan(text, {}).map((match) => `${match.entity}:${text.slice(match.start, match.end)}`);

describe('secrets filter', () => {
  test.each([
    ['aws key AKIAIOSFODNN7EXAMPLE here', 'aws_access_key:AKIAIOSFODNN7EXAMPLE'],
    ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_key:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['token ghp_16C7e42F292c6912E7710c838347Ae178B4a ok', 'github_token:ghp_16C7e42F292c6912E7710c838347Ae178B4a'],
    ['glpat-xxxxXXXXxxxx12345678 is mine', 'gitlab_token:glpat-xxxxXXXXxxxx12345678'],
    ['slack xoxb-1234567890-abcdefghij', 'slack_token:xoxb-1234567890-abcdefghij'],
    ['stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'stripe_key:sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    [
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk end',
      'jwt:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    ],
    ['password = "Tr0ub4dor&3xyz"', 'secret_assignment:Tr0ub4dor&3xyz'],
    ['"api_key": "a8f5f167f44f4964e6c998dee827110c"', 'secret_assignment:a8f5f167f44f4964e6c998dee827110c'],
    ['DB_PASSWORD=s3cr3tP4ssw0rd!', 'secret_assignment:s3cr3tP4ssw0rd!'],
  ])('%s', (text, expected) => {
    expect(found(text)).toEqual([expected]);
  });

  test('a private key block is matched whole, and an unfinished one runs to the end', () => {
    const block = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabcdef\n-----END RSA PRIVATE KEY-----';
    expect(found(`key:\n${block}\nthanks`)).toEqual([`private_key:${block}`]);
    const open = 'here -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk';
    expect(found(open)).toEqual([`private_key:${open.slice(5)}`]);
  });

  test.each([
    ['placeholder password', 'password = "changeme"'],
    ['template variable', 'api_key: ${API_KEY}'],
    ['low entropy value', 'password: aaaaaaaaaaaa'],
    ['prose about passwords', 'Choose a password that is long and memorable.'],
    ['public key block', '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----'],
    ['publishable stripe key', 'pk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    ['short AKIA word', 'AKIA is a prefix'],
    ['a git commit hash', 'commit 9fceb02d0ae598e95dc970b74767f19372d61af8'],
    ['a uuid', 'id 123e4567-e89b-12d3-a456-426614174000'],
    ['a function call', 'const token = getToken();'],
    ['an environment lookup', 'password: process.env.DB_PASSWORD'],
    ['a python environment lookup', 'api_key = os.environ["OPENAI_API_KEY"]'],
  ])('no secret in %s', (_name, text) => {
    expect(found(text)).toEqual([]);
  });

  test('entropy', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
  });

  test('stream hold-back covers an open private key block', () => {
    const text = 'ok\n-----BEGIN PRIVATE KEY-----\nMIIE';
    expect(filter.holdBackFrom(text, {})).toBe(3);
    expect(filter.holdBackFrom('see -----BEG', {})).toBe(4);
  });
});
