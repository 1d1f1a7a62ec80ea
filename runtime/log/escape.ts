// Characters a terminal, a log shipper or a JavaScript reader may act on rather than show: C0
// controls (ESC starts a terminal escape sequence, CR rewrites the line, BEL rings), DEL, the C1
// controls (U+009B is a one-character CSI on many terminals) and the Unicode line and paragraph
// separators (a line break to many log viewers and to older JavaScript). A node id, a key or a
// value from the fleet may hold any of them, and must reach a log or a JSON line as text.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** What JSON.stringify leaves raw: it escapes C0 only. */
const JSON_RAW_CONTROL = /[\u007f-\u009f\u2028\u2029]/g;

export function hasControl(s: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(s);
}

function unicodeEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** `s` with every control character written as \n, \r, \t or \uXXXX (and backslashes doubled, so it reads back). */
export function escapeControl(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(CONTROL, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : unicodeEscape(c)));
}

/** The inverse of escapeControl (and of \" inside a quoted logfmt value). */
export function unescapeControl(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) =>
    e.length === 5 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e,
  );
}

/**
 * JSON.stringify, with DEL, C1 and U+2028/U+2029 written as \uXXXX as well. Those characters can
 * only stand inside a JSON string, where the escape means the same, so the text parses to the
 * same value and carries no raw control character.
 */
export function jsonText(value: unknown, replacer?: ((this: unknown, key: string, value: unknown) => unknown) | null, space?: number): string {
  const text = JSON.stringify(value, replacer ?? undefined, space) as string | undefined;
  return text === undefined ? 'null' : escapeJsonControl(text);
}

/** JSON text as received (a line of the API's stream) with the same characters escaped. */
export function escapeJsonControl(text: string): string {
  return text.replace(JSON_RAW_CONTROL, unicodeEscape);
}
