/**
 * CLI progress as a person sees it: one bar redrawn in place on a terminal, plain
 * readable lines in a log or a pipe, never a flood of either.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createProgress, progressLine, renderBar } from '../../../src/cli-ui/progress.ts';

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

describe('CLI progress', () => {
  const bars: Array<[number, number, string]> = [
    [0, 10, '[..........]   0%'],
    [3, 10, '[###.......]  30%'],
    [10, 10, '[##########] 100%'],
    [12, 10, '[##########] 100%'],
    [0, 0, '[##########] 100%'],
  ];
  for (const [done, total, bar] of bars) {
    it(`draws ${done} of ${total} as ${bar}`, () => assert.equal(renderBar(done, total, 10), bar));
  }

  it('says the count alone when the total is unknown', () => {
    assert.equal(progressLine('dlq replay X', 42, undefined, 'replayed'), 'dlq replay X 42 replayed');
  });

  it('redraws one line in place on a terminal, and ends it with a newline', () => {
    let now = 0;
    const out = capture();
    const progress = createProgress({ label: 'migrate', total: 4, stream: out.stream, tty: true, barWidth: 4, now: () => now });
    progress.update(1, 'applying 1 core-tables');
    progress.update(2); // within the redraw interval: not drawn
    now += 100;
    progress.update(3);
    progress.done();
    const frames = out.text().split('\r\x1b[2K').filter((f) => f !== '');
    assert.deepEqual(frames, [
      'migrate [#...]  25% 1/4 applying 1 core-tables',
      'migrate [###.]  75% 3/4 applying 1 core-tables',
      'migrate [###.]  75% 3/4 applying 1 core-tables\n',
    ]);
    assert.equal(out.text().split('\n').length, 2, 'a single line until the end');
  });

  it('prints plain lines when not on a terminal: each new step, else at most one a second', () => {
    let now = 0;
    const out = capture();
    const progress = createProgress({ label: 'migrate', total: 3, stream: out.stream, tty: false, barWidth: 3, now: () => now });
    progress.update(0, 'applying 1 core-tables');
    for (let i = 0; i < 50; i++) progress.update(1); // a burst: nothing new to say
    progress.update(2, 'applying 2 live-tables');
    now += 1_500;
    progress.tick();
    progress.done('3 statements applied');
    assert.equal(out.text(), [
      'migrate [...]   0% 0/3 applying 1 core-tables',
      'migrate [##.]  66% 2/3 applying 2 live-tables',
      'migrate [###] 100% 3/3 applying 2 live-tables',
      'migrate [###] 100% 3/3 3 statements applied',
      '',
    ].join('\n'));
    assert.ok(!out.text().includes('\r'), 'no carriage return in a log');
  });
});
