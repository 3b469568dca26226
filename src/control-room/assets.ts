/**
 * The Control Room's static files: its own page, script and style from
 * src/control-room/public, and uPlot's ES module and style straight from the installed
 * `uplot` package (resolved at start, so nothing is ever loaded from a CDN). Read once
 * at start; they are small.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** One served file. */
export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** URL prefix of the assets and the stream. */
export const CONTROL_ROOM_PREFIX = '/control-room';

const require = createRequire(import.meta.url);

function own(name: string): Buffer {
  return readFileSync(new URL(`./public/${name}`, import.meta.url));
}

/** The page and the files it loads, by name under /control-room/assets/. */
export function loadAssets(): { readonly page: Asset; readonly files: ReadonlyMap<string, Asset> } {
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  return {
    page: { body: own('index.html'), contentType: 'text/html; charset=utf-8' },
    files: new Map<string, Asset>([
      ['app.js', { body: own('app.js'), contentType: js }],
      ['app.css', { body: own('app.css'), contentType: css }],
      ['uplot.esm.js', { body: readFileSync(require.resolve('uplot/dist/uPlot.esm.js')), contentType: js }],
      ['uplot.min.css', { body: readFileSync(require.resolve('uplot/dist/uPlot.min.css')), contentType: css }],
    ]),
  };
}
