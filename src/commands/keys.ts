/** `quartile keys generate`: a token key set (JWKS), or a rotated copy of an existing one. */
import { readFileSync } from 'node:fs';
import { TokenKeyring, generateJwk, type TokenJwk } from '../ads/tokens/keyring.ts';
import type { Command } from './command.ts';
import { messageOf } from '../core/errors.ts';
import { CommandError, UsageError, parseFlags } from './shared.ts';

export const keysCommand: Command = {
  name: 'keys',
  summary: 'Generate or rotate the token key set (JWKS)',
  usage: `Usage: quartile keys generate [--kid ID] [--rotate FILE] [--retire KID]

  generate          Prints a JWKS with one new 256-bit A256GCM key.
  --rotate FILE     Prints FILE's keys plus a new one, which becomes the key that encrypts;
                    the old keys keep decrypting tokens already issued.
  --retire KID      With --rotate: marks KID retired (it no longer decrypts). Retire a key
                    only after tokens.ttlSeconds has passed since the rotation.
  --kid ID          The new key's id (1–12 letters, digits, - or _); default k<date><random>.

  Give the output to every Quartile process as QUARTILE_TOKENS_JWKS or tokens.jwksFile.
  It is a secret: keep it out of the repository.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { kid: { type: 'string' }, rotate: { type: 'string' }, retire: { type: 'string' } });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    if (positionals[0] !== 'generate' || positionals.length > 1) throw new UsageError('Say `quartile keys generate`.');
    if (values.retire !== undefined && values.rotate === undefined) throw new UsageError('--retire needs --rotate FILE.');
    let keys: TokenJwk[] = [];
    if (values.rotate !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.rotate, 'utf8');
      } catch (error) {
        throw new CommandError(`Cannot read ${values.rotate} (${messageOf(error)}): give the JWKS file to rotate, as written by \`quartile keys generate\`.`);
      }
      TokenKeyring.fromJwks(text); // validates
      keys = (JSON.parse(text) as { keys: TokenJwk[] }).keys;
      if (values.retire !== undefined) {
        if (!keys.some((k) => k.kid === values.retire)) throw new UsageError(`No key ${values.retire} in ${values.rotate}; its key ids are ${keys.map((k) => k.kid).join(', ')}.`);
        keys = keys.map((k) => (k.kid === values.retire ? { ...k, retired: true } : k));
      }
    }
    const fresh = generateJwk(values.kid);
    if (keys.some((k) => k.kid === fresh.kid)) throw new UsageError(`Key id ${fresh.kid} is already in the set; pass another --kid.`);
    const jwks = { keys: [...keys, fresh] };
    TokenKeyring.fromJwks(jwks); // the result must be usable
    io.stdout.write(`${JSON.stringify(jwks, null, 2)}\n`);
    return 0;
  },
};
