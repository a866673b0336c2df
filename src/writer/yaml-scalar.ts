import { parse } from 'yaml';
import type { Scalar } from '../model/scalar.js';

// A memo of a pure function; bounded, since the bot runs for months over many repos.
const plainSafeCache = new Map<string, boolean>();
const PLAIN_SAFE_CACHE_LIMIT = 50_000;

/**
 * True when `text` reads back as the same string, unquoted, under both YAML 1.2 and 1.1
 * (Kubernetes tooling still meets 1.1 parsers, where `on`/`yes` are booleans).
 */
function isPlainSafe(text: string): boolean {
  let safe = plainSafeCache.get(text);
  if (safe === undefined) {
    safe =
      text.length > 0 &&
      text.trim() === text &&
      !/[:#{}[\],&*!|>'"%@`\n]/.test(text) &&
      !/^[-?]/.test(text) &&
      safeParse(text, '1.2') === text &&
      safeParse(text, '1.1') === text;
    if (plainSafeCache.size >= PLAIN_SAFE_CACHE_LIMIT) plainSafeCache.clear();
    plainSafeCache.set(text, safe);
  }
  return safe;
}

function safeParse(text: string, version: '1.1' | '1.2'): unknown {
  try {
    return parse(text, { version });
  } catch {
    return undefined;
  }
}

const plainStringCache = new Map<string, boolean>();

/** True when a plain scalar reads as a string under YAML 1.2 (how the repo is read). */
export function plainReadsAsString(text: string): boolean {
  let result = plainStringCache.get(text);
  if (result === undefined) {
    result = typeof safeParse(text, '1.2') === 'string';
    plainStringCache.set(text, result);
  }
  return result;
}

const plainValueCache = new Map<string, unknown>();

/** What a plain scalar reads as under YAML 1.2 (how the repo is read): a string, number, boolean or null. */
export function plainScalarValue(text: string): unknown {
  if (plainValueCache.has(text)) return plainValueCache.get(text);
  const value = safeParse(text, '1.2');
  plainValueCache.set(text, value);
  return value;
}

/**
 * Whether a node that reads as `current` already holds the patch value `value`: same type and same
 * value (a quoted "true" is not the boolean true, `1.0` is the number 1).
 */
export function sameScalarValue(current: unknown, value: Scalar): boolean {
  return typeof current === typeof value && current === value;
}

/** A scalar as YAML source, keeping the quoting style of the token it replaces when it can. */
export function formatScalar(value: Scalar, style: string = 'scalar'): string {
  if (typeof value !== 'string') return String(value);
  // Line breaks need escapes, which only double quotes have.
  if (style === 'single-quoted-scalar' && !value.includes('\n')) return `'${value.replace(/'/g, "''")}'`;
  if (style === 'double-quoted-scalar') return JSON.stringify(value);
  return isPlainSafe(value) ? value : JSON.stringify(value);
}

/** A mapping key as YAML source. */
export function formatKey(key: string): string {
  return isPlainSafe(key) ? key : JSON.stringify(key);
}
