/** `quartile token inspect <token>`: what a device's token says, and whether it is valid. */
import { loadTokenKeyring } from '../ads/tokens/load-keyring.ts';
import { TokenService } from '../ads/tokens/token-service.ts';
import { isQuartileError } from '../core/errors.ts';
import type { Command } from './command.ts';
import { UsageError, cliConfig, parseFlags } from './shared.ts';

export const tokenCommand: Command = {
  name: 'token',
  summary: 'Inspect an opaque ad token: header, claims, and validity',
  usage: `Usage: quartile token inspect <token> [--session ID] [--config FILE]

  Decrypts the token with the configured keys (tokens.jwks, tokens.jwksFile, or the
  embedded keys in QUARTILE_DATA_DIR) and prints JSON: {valid, code?, header, claims?}.
  --session ID  Checks a session-bound token against this playback session.
  Exit status 0 when the token is valid, 1 when it is not.`,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { session: { type: 'string' } });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    if (positionals[0] !== 'inspect' || positionals.length !== 2) throw new UsageError('Say `quartile token inspect <token>`.');
    const token = positionals[1]!.trim();
    const config = cliConfig(values.config);
    const tokens = new TokenService(loadTokenKeyring(config).keyring, { ttlSeconds: config.tokens.ttlSeconds, binding: config.tokens.binding });
    let header: unknown = null;
    try {
      header = tokens.header(token);
      const claims = tokens.decrypt(token, values.session === undefined ? {} : { playbackSessionId: values.session });
      io.stdout.write(`${JSON.stringify({ valid: true, header, claims: { ...claims, iatIso: new Date(claims.iat * 1000).toISOString(), expIso: new Date(claims.exp * 1000).toISOString() } }, null, 2)}\n`);
      return 0;
    } catch (error) {
      if (!isQuartileError(error)) throw error;
      let claims: unknown;
      if (error.code === 'DECRYPT_TOKEN_EXPIRED') claims = tokens.decrypt(token, { ignoreExpiry: true });
      io.stdout.write(`${JSON.stringify({ valid: false, code: error.code, message: error.message, header, ...(claims === undefined ? {} : { claims }) }, null, 2)}\n`);
      return 1;
    }
  },
};
