/** A line's text in the file's encoding; undefined when the bytes are not valid in it. */
export type LineDecoder = (bytes: Buffer) => string | undefined;

/**
 * Code points of the Windows-1252 bytes 0x80–0x9F (the WHATWG index); every other byte is its own code point.
 * Needed because Node 20.18.3+ `TextDecoder('windows-1252')` wrongly decodes these bytes as ISO-8859-1
 * (nodejs/node#60888): `€` (0x80) would come out as U+0080.
 */
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\x80-\x9f]/g;

// ignoreBOM keeps a BOM inside a line (only the file's first bytes may be one, and those are stripped apart).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8; undefined when the bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Decodes Windows-1252 (never fails: the WHATWG index maps all 256 bytes). */
export function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(C1, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]!);
}

/**
 * The decoder of a file encoding. `iso-8859-1` is decoded as Windows-1252, as the WHATWG Encoding Standard (and
 * TextDecoder) label it: files declared Latin-1 that hold 0x80–0x9F are Windows-1252 in practice.
 */
export function lineDecoder(encoding: 'utf-8' | 'windows-1252' | 'iso-8859-1'): LineDecoder {
  return encoding === 'utf-8' ? decodeUtf8 : decodeWindows1252;
}
