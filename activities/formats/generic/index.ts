import { parseDelimitedFile } from '../delimited/parser.js';
import type { GenericEvent, GenericFormatConfig, GenericParseOptions } from '../format.js';
import { parseJsonLinesFile } from '../jsonl/parser.js';
import type { GenericSource } from './stream.js';

export { parseDelimitedFile } from '../delimited/parser.js';
export { parseJsonLinesFile } from '../jsonl/parser.js';
export type { GenericSource } from './stream.js';
export { genericFormatProblems } from './validate.js';

/** Streams one landed file in a generic format (delimited or JSON Lines), as its config's `kind` says. */
export function parseGenericFile(
  source: GenericSource,
  config: GenericFormatConfig,
  options: GenericParseOptions,
): AsyncGenerator<GenericEvent, void, undefined> {
  return config.kind === 'delimited'
    ? parseDelimitedFile(source, config, options)
    : parseJsonLinesFile(source, config, options);
}
