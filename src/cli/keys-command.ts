/**
 * `rein keys hash`: reads a new API key on stdin and prints the hash to put in the config's `keys`.
 * `rein keys new`: prints a fresh random key and its hash (the key is shown once; store it safely).
 */
import { generateApiKey, hashApiKey } from '../access/api-keys';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(argv: string[]): Promise<number> {
  const [sub] = argv;
  if (sub === 'hash') {
    const key = (await readStdin()).replace(/\r?\n$/, '');
    if (key.length < 16) {
      process.stderr.write('rein keys hash: the key must be at least 16 characters (use `rein keys new` to make one)\n');
      return 2;
    }
    process.stdout.write(`${hashApiKey(key)}\n`);
    return 0;
  }
  if (sub === 'new') {
    const key = generateApiKey();
    process.stdout.write(`${JSON.stringify({ key, hash: hashApiKey(key) })}\n`);
    return 0;
  }
  process.stderr.write('usage: rein keys hash < key.txt | rein keys new\n');
  return 2;
}
