import { afterEach, describe, expect, it } from '@jest/globals';
import { log, setLogLevel } from '../../worker/log.js';

/** FABRICA_LOG_LEVEL is applied: lines below it are not written. */
describe('log level', () => {
  const original = process.stderr.write.bind(process.stderr);
  afterEach(() => {
    process.stderr.write = original;
    setLogLevel('info');
  });

  function capture(): string[] {
    const lines: string[] = [];
    process.stderr.write = (chunk: string) => {
      lines.push(String(chunk));
      return true;
    };
    return lines;
  }

  it('writes info and above by default, and only what the level allows once set', () => {
    let lines = capture();
    log.debug('d');
    log.info('i');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['i']);
    setLogLevel('warn');
    lines = capture();
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(['warn', 'error']);
    setLogLevel('debug');
    lines = capture();
    log.debug('d');
    expect(lines).toHaveLength(1);
  });
});
