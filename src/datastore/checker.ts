// Field checkers shared by the per-kind validators. A Checker knows where the resource came
// from (file, 1-based document number, kind, name) and turns every failure into one
// ConfigError whose message reads
//   `<file> document <n> (<Kind> <name>): <field.path>: <reason>`.
// Checkers read `unknown` input and return typed values; they never mutate the input.
import { ConfigError } from '../util/errors.js';
import { canonicalPrefix, parseAddress, parsePrefix, type Family } from '../net/prefix.js';
import { selectorField } from '../model/parse-bgp.js';
import { asNumberFromText, isValidAs } from '../model/asn.js';
import { durationField } from '../model/duration.js';

export interface Where {
  file?: string;
  /** 1-based document number inside the file. */
  document?: number;
}

export type Obj = Record<string, unknown>;

export class Checker {
  kind: string | undefined;
  name: string | undefined;

  constructor(readonly where: Where, readonly strictFields: boolean) {}

  /** Throws the ConfigError for `path` with `reason`. */
  fail(path: string, reason: string): never {
    const loc = [this.where.file, this.where.document !== undefined ? `document ${this.where.document}` : undefined]
      .filter((p): p is string => !!p)
      .join(' ');
    const ident = this.kind ? `(${this.kind}${this.name ? ' ' + this.name : ''})` : '';
    const prefix = [loc, ident].filter((p) => p !== '').join(' ');
    const body = path ? `${path}: ${reason}` : reason;
    throw new ConfigError(prefix ? `${prefix}: ${body}` : body, {
      file: this.where.file,
      document: this.where.document,
      kind: this.kind,
      resource: this.name,
      field: path,
      reason,
    });
  }

  /** `v` as a plain object, or a failure. */
  object(v: unknown, path: string): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, `must be an object, got ${describe(v)}`);
    return v as Obj;
  }

  optObject(o: Obj, key: string, path: string): Obj | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.object(v, join(path, key));
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `must be a list, got ${describe(v)}`);
    return v;
  }

  optArray(o: Obj, key: string, path: string): unknown[] | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.array(v, join(path, key));
  }

  /** Fails on keys outside `allowed` when the checker is strict (file input). */
  knownFields(o: Obj, allowed: readonly string[], path: string): void {
    if (!this.strictFields) return;
    for (const k of Object.keys(o)) {
      if (allowed.includes(k)) continue;
      const near = allowed.find((a) => a.toLowerCase() === k.toLowerCase());
      this.fail(join(path, k), near ? `unknown field (did you mean "${near}"?)` : 'unknown field');
    }
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, `must be a string, got ${describe(v)}`);
    return v;
  }

  optString(o: Obj, key: string, path: string): string | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.string(v, join(path, key));
  }

  requiredString(o: Obj, key: string, path: string): string {
    const v = o[key];
    if (v === undefined || v === null || v === '') this.fail(join(path, key), 'is required');
    return this.string(v, join(path, key));
  }

  optBool(o: Obj, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(join(path, key), `must be true or false, got ${describe(v)}`);
    return v;
  }

  /** Integer in [min, max]; `what` words the failure (default "an integer min..max"). */
  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `must be an integer ${min}..${max}, got ${describe(v)}`);
    }
    return v;
  }

  optInt(o: Obj, key: string, path: string, min: number, max: number): number | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.int(v, join(path, key), min, max);
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(path, `must be one of ${values.join(', ')}, got ${describe(v)}`);
    }
    return v as T;
  }

  optOneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[]): T | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.oneOf(v, join(path, key), values);
  }

  /** An AS number: integer 1..4294967295, or asdot text "a.b" / decimal text as Calico accepts. */
  asNumber(v: unknown, path: string): number {
    if (typeof v === 'string') {
      const n = asNumberFromText(v);
      if (n !== undefined) return n;
      if (/^\d+$/.test(v)) v = Number(v); // out of range: reported as the number it is
    }
    if (!isValidAs(v)) {
      this.fail(path, `must be an integer 1..4294967295, got ${describe(v)}`);
    }
    return v;
  }

  /** An address (no length) of the given family, or of either. Returns the input text. */
  address(v: unknown, path: string, family?: Family): string {
    const s = this.string(v, path);
    let parsed: { family: Family };
    try {
      parsed = parseAddress(s);
    } catch {
      this.fail(path, `"${s}" is not an ${family === 'ipv6' ? 'IPv6' : family === 'ipv4' ? 'IPv4' : 'IP'} address`);
    }
    if (family && parsed.family !== family) this.fail(path, `"${s}" is not an ${family === 'ipv6' ? 'IPv6' : 'IPv4'} address`);
    return s;
  }

  /**
   * A prefix "addr/len". `hostBits`: 'allow' (an interface address such as 10.0.0.11/24),
   * 'forbid' (a network, host bits must be zero). Returns the input text.
   */
  prefix(v: unknown, path: string, opts: { family?: Family; hostBits: 'allow' | 'forbid' }): string {
    const s = this.string(v, path);
    const famText = opts.family === 'ipv6' ? 'IPv6 ' : opts.family === 'ipv4' ? 'IPv4 ' : '';
    if (!s.includes('/')) this.fail(path, `"${s}" must be an ${famText}address with a prefix length, e.g. "${opts.family === 'ipv6' ? 'fd00::1/64' : '10.0.0.1/24'}"`);
    let p;
    try {
      p = parsePrefix(s);
    } catch {
      this.fail(path, `"${s}" is not a valid ${famText}CIDR`);
    }
    if (opts.family && p.family !== opts.family) this.fail(path, `"${s}" is not an ${famText.trim()} CIDR`);
    if (opts.hostBits === 'forbid') {
      try {
        parsePrefix(s, { strict: true });
      } catch {
        const canon = canonicalPrefix(s);
        this.fail(path, `"${s}" has host bits set (did you mean "${canon}"?)`);
      }
    }
    return s;
  }

  /** A Calico selector, parsed by the model's selectorField; the failure names the character position. */
  selector(v: unknown, path: string): string {
    const s = this.string(v, path);
    const sel = selectorField(s);
    if ('reason' in sel) this.fail(path, sel.reason);
    return s;
  }

  optSelector(o: Obj, key: string, path: string): string | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.selector(v, join(path, key));
  }

  /** A Go duration; returns seconds. `min` bounds it below (default 0). */
  duration(v: unknown, path: string, min = 0): number {
    if (typeof v !== 'string') this.fail(path, `must be a duration text such as "120s" or "2m0s", got ${describe(v)}`);
    const d = durationField(v, min);
    return 'seconds' in d ? d.seconds : this.fail(path, d.reason);
  }

  optDuration(o: Obj, key: string, path: string, min = 0): number | undefined {
    const v = o[key];
    return v === undefined || v === null ? undefined : this.duration(v, join(path, key), min);
  }

  /** Kubernetes-style object/label name: DNS-1123 subdomain (lower-case, '-', '.'), ≤253. */
  dnsName(v: unknown, path: string): string {
    const s = this.string(v, path);
    if (s === '') this.fail(path, 'is required');
    if (s.length > 253 || !DNS1123_SUBDOMAIN.test(s)) {
      this.fail(path, `"${s}" is not a valid name (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)`);
    }
    return s;
  }

  stringMap(v: unknown, path: string): Record<string, string> {
    const o = this.object(v, path);
    for (const [k, val] of Object.entries(o)) {
      if (typeof val === 'number' || typeof val === 'boolean') this.fail(join(path, k), `must be a string, got ${String(val)} (quote it: "${String(val)}")`);
      this.string(val, join(path, k));
    }
    return o as Record<string, string>;
  }
}

export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** "spec" + "peerIP" → "spec.peerIP"; "spec.ingress" + 0 → "spec.ingress[0]". */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Short description of a bad value for messages: strings quoted, objects by type. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'an object';
}
