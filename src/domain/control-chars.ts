/**
 * The characters that must not reach a terminal or a console as they are: C0 and C1 controls, DEL,
 * and the bidi overrides and isolates that reorder what is read. src/cli/io.ts escapes the same set.
 */
const CONTROL_CLASS = '\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069';
/** A JSON Schema `pattern`: text without any of those characters. */
export const NO_CONTROL_PATTERN = `^[^${CONTROL_CLASS}]*$`;
