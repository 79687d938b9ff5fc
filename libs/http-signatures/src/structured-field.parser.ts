import type { BareItem, SfDictionary, SfInnerList, SfItem, SfMember, SfParameters } from './structured-field.types';

/**
 * Strict RFC 8941 parser for Dictionaries, Inner Lists, Items and Parameters. It follows the
 * algorithms in RFC 8941 §4.2, with these differences:
 *
 * - Duplicate dictionary and parameter keys are returned as they appear instead of the last one
 *   overwriting the others. The callers in this library reject duplicates.
 * - Byte sequences must be canonical base64. Missing `=` padding is accepted, but non-zero pad bits,
 *   misplaced `=` and impossible lengths are rejected.
 * - The RFC 9651 additions (Dates `@…` and Display Strings `%"…"`) are not supported and fail.
 *
 * Returns null if the whole field value does not parse. Never throws.
 */
export function parseDictionary(input: string): SfDictionary | null {
  if (typeof input !== 'string') return null;
  try {
    const parser = new SfParser(input);
    const dictionary = parser.dictionary();
    return parser.atEnd() ? dictionary : null;
  } catch (error) {
    if (error instanceof SfSyntaxError) return null;
    throw error;
  }
}

class SfSyntaxError extends Error {}

const DIGIT = /^[0-9]$/;
const LCALPHA = /^[a-z]$/;
const ALPHA = /^[A-Za-z]$/;
const KEY_CHAR = /^[a-z0-9_\-.*]$/;
/** tchar (RFC 9110 §5.6.2) plus ':' and '/', as RFC 8941 §3.3.4 allows in tokens. */
const TOKEN_CHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z:/]$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

class SfParser {
  private pos = 0;
  private readonly text: string;

  constructor(input: string) {
    // RFC 8941 §4.2: leading and trailing SP (not HTAB) are stripped before parsing.
    this.text = input.replace(/^ +| +$/g, '');
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** RFC 8941 §4.2.2. */
  dictionary(): SfDictionary {
    const members: SfDictionary = [];
    while (!this.atEnd()) {
      const key = this.key();
      let member: SfMember;
      if (this.peek() === '=') {
        this.pos++;
        member = this.itemOrInnerList();
      } else {
        member = { kind: 'item', value: { type: 'boolean', value: true }, params: this.parameters() };
      }
      members.push([key, member]);
      this.skipOws();
      if (this.atEnd()) return members;
      if (this.next() !== ',') this.fail();
      this.skipOws();
      if (this.atEnd()) this.fail(); // trailing comma
    }
    return members;
  }

  private itemOrInnerList(): SfMember {
    return this.peek() === '(' ? this.innerList() : this.item();
  }

  /** RFC 8941 §4.2.1.2. */
  private innerList(): SfInnerList {
    if (this.next() !== '(') this.fail();
    const items: SfItem[] = [];
    while (!this.atEnd()) {
      this.skipSp();
      if (this.peek() === ')') {
        this.pos++;
        return { kind: 'inner-list', items, params: this.parameters() };
      }
      items.push(this.item());
      const c = this.peek();
      if (c !== ' ' && c !== ')') this.fail();
    }
    return this.fail();
  }

  /** RFC 8941 §4.2.3. */
  private item(): SfItem {
    const value = this.bareItem();
    return { kind: 'item', value, params: this.parameters() };
  }

  /** RFC 8941 §4.2.3.1. */
  private bareItem(): BareItem {
    const c = this.peek();
    if (c === undefined) return this.fail();
    if (c === '-' || DIGIT.test(c)) return this.number();
    if (c === '"') return { type: 'string', value: this.string() };
    if (c === '*' || ALPHA.test(c)) return { type: 'token', value: this.token() };
    if (c === ':') return { type: 'binary', value: this.byteSequence() };
    if (c === '?') return { type: 'boolean', value: this.boolean() };
    return this.fail();
  }

  /** RFC 8941 §4.2.3.2. */
  private parameters(): SfParameters {
    const params: SfParameters = [];
    while (this.peek() === ';') {
      this.pos++;
      this.skipSp();
      const key = this.key();
      let value: BareItem = { type: 'boolean', value: true };
      if (this.peek() === '=') {
        this.pos++;
        value = this.bareItem();
      }
      params.push([key, value]);
    }
    return params;
  }

  /** RFC 8941 §4.2.3.3. */
  private key(): string {
    const first = this.peek();
    if (first === undefined || !(first === '*' || LCALPHA.test(first))) this.fail();
    const start = this.pos;
    while (!this.atEnd() && KEY_CHAR.test(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** RFC 8941 §4.2.4. */
  private number(): BareItem {
    let sign = 1;
    if (this.peek() === '-') {
      this.pos++;
      sign = -1;
    }
    const first = this.peek();
    if (first === undefined || !DIGIT.test(first)) this.fail();
    let digits = '';
    let isDecimal = false;
    while (!this.atEnd()) {
      const c = this.text[this.pos];
      if (DIGIT.test(c)) {
        digits += c;
        this.pos++;
      } else if (c === '.' && !isDecimal) {
        if (digits.length > 12) this.fail();
        digits += c;
        isDecimal = true;
        this.pos++;
      } else {
        break;
      }
      if (!isDecimal && digits.length > 15) this.fail();
      if (isDecimal && digits.length > 16) this.fail();
    }
    if (!isDecimal) return { type: 'integer', value: sign * Number.parseInt(digits, 10) };
    if (digits.endsWith('.')) this.fail();
    if (digits.length - digits.indexOf('.') - 1 > 3) this.fail();
    return { type: 'decimal', value: sign * Number.parseFloat(digits) };
  }

  /** RFC 8941 §4.2.5. */
  private string(): string {
    if (this.next() !== '"') this.fail();
    let out = '';
    while (!this.atEnd()) {
      const c = this.text[this.pos++];
      if (c === '\\') {
        const escaped = this.next();
        if (escaped !== '"' && escaped !== '\\') this.fail();
        out += escaped;
      } else if (c === '"') {
        return out;
      } else {
        const code = c.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) this.fail();
        out += c;
      }
    }
    return this.fail();
  }

  /** RFC 8941 §4.2.6. */
  private token(): string {
    const start = this.pos;
    this.pos++; // first character already checked by bareItem()
    while (!this.atEnd() && TOKEN_CHAR.test(this.text[this.pos])) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** RFC 8941 §4.2.7, with a stricter base64 check (see parseDictionary). */
  private byteSequence(): Uint8Array {
    if (this.next() !== ':') this.fail();
    const end = this.text.indexOf(':', this.pos);
    if (end < 0) this.fail();
    const encoded = this.text.slice(this.pos, end);
    this.pos = end + 1;
    const bytes = decodeCanonicalBase64(encoded);
    return bytes ?? this.fail();
  }

  /** RFC 8941 §4.2.8. */
  private boolean(): boolean {
    if (this.next() !== '?') this.fail();
    const c = this.next();
    if (c === '1') return true;
    if (c === '0') return false;
    return this.fail();
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private next(): string | undefined {
    return this.text[this.pos++];
  }

  private skipSp(): void {
    while (this.peek() === ' ') this.pos++;
  }

  private skipOws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  private fail(): never {
    throw new SfSyntaxError(`structured field syntax error at offset ${this.pos}`);
  }
}

/**
 * Decodes standard base64, with or without `=` padding, and returns null unless the text is the
 * canonical encoding of its bytes. Buffer's decoder is lenient, so the alphabet, length and a
 * re-encode round trip are all checked.
 */
export function decodeCanonicalBase64(encoded: string): Uint8Array | null {
  if (!BASE64.test(encoded)) return null;
  const unpadded = encoded.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return null;
  if (encoded.length !== unpadded.length && encoded.length % 4 !== 0) return null;
  const bytes = Buffer.from(unpadded, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== unpadded) return null;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
