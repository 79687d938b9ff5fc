/**
 * Escaping for the two places report data enters the HTML: text and attribute values (escapeHtml),
 * and the JSON data block (jsonForScriptElement). Nothing from the report reaches the page otherwise.
 */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in element text and in a quoted attribute value, inside HTML and inline SVG alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ENTITIES[char]);
}

/**
 * JSON to place inside `<script type="application/json">`. Every `<`, `>` and `&` becomes a JSON
 * unicode escape, so neither `</script` nor `<!--` can occur in the element and end it or change
 * how it is parsed; U+2028/U+2029 are escaped too. `JSON.parse(element.textContent)` gives the
 * value back unchanged.
 */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
