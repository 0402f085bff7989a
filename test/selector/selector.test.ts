// Calico selector language: parsing, evaluation, canonical text, and error positions.
import t from 'tap';
import { parseSelector, SelectorError } from '../../src/selector/index.js';

type Labels = Record<string, string>;

const L = {
  none: {} as Labels,
  web: { app: 'web', tier: 'frontend', 'projectcalico.org/namespace': 'prod' } as Labels,
  db: { app: 'db', tier: 'backend', 'kubernetes.io/hostname': 'node-1' } as Labels,
  rr: { 'route-reflector': 'true', zone: 'eu-west-1a' } as Labels,
};

// [selector, labels, expected]
const matchTable: [string, Labels, boolean][] = [
  ['', L.none, true],
  ['   ', L.web, true],
  ['all()', L.none, true],
  ['all( )', L.web, true],
  ["app == 'web'", L.web, true],
  ['app == "web"', L.web, true],
  ["app == 'web'", L.db, false],
  ["app == 'web'", L.none, false],
  ["app != 'web'", L.web, false],
  ["app != 'web'", L.db, true],
  ["app != 'web'", L.none, true], // absent label satisfies !=
  ["app in {'web','db'}", L.db, true],
  ["app in {'web','db'}", L.none, false],
  ["app in {}", L.web, false],
  ["app not in {'web'}", L.web, false],
  ["app not in {'web'}", L.db, true],
  ["app not in {'web'}", L.none, true], // absent label satisfies not in
  ['has(app)', L.web, true],
  ['has(app)', L.rr, false],
  ['!has(app)', L.rr, true],
  ['!!has(app)', L.rr, false],
  ['has( kubernetes.io/hostname )', L.db, true],
  ["projectcalico.org/namespace == 'prod'", L.web, true],
  ["kubernetes.io/hostname == 'node-1'", L.db, true],
  ["route-reflector == 'true'", L.rr, true],
  ["route-reflector == 'true'", L.web, false],
  ["zone contains 'west'", L.rr, true],
  ["zone contains 'east'", L.rr, false],
  ["zone contains 'west'", L.none, false],
  ["zone starts with 'eu-'", L.rr, true],
  ["zone starts with 'us-'", L.rr, false],
  ["zone ends with '1a'", L.rr, true],
  ["zone ends with '1b'", L.rr, false],
  ["zone ends  with '1a'", L.rr, true],
  ["app == 'web' && tier == 'frontend'", L.web, true],
  ["app == 'web' && tier == 'backend'", L.web, false],
  ["app == 'web' || app == 'db'", L.db, true],
  ["!(app == 'web' || app == 'db')", L.db, false],
  ["!(app == 'web' || app == 'db')", L.rr, true],
  ["!app == 'web'", L.db, true], // ! binds to the operation
  ['global()', L.web, false], // tern: global() matches nothing in plain label matching
  ['!global()', L.web, true],
  ['all() && global()', L.none, false],
  ['constructor == "x"', L.none, false], // no prototype leakage
  ['has(toString)', L.none, false],
  ["a=='x'&&b=='y'", { a: 'x', b: 'y' }, true],
  ["\ta == 'x'\t", { a: 'x' }, true],
  [`a == '"q"'`, { a: '"q"' }, true],
  ['a == ""', { a: '' }, true],
  ['a == ""', {}, false],
];

t.test('matches', async (t) => {
  for (const [sel, labels, want] of matchTable) {
    t.equal(parseSelector(sel).matches(labels), want, `${JSON.stringify(sel)} on ${JSON.stringify(labels)}`);
  }
});

t.test('precedence: && binds tighter than ||', async (t) => {
  const s = parseSelector("a == 'x' || b == 'y' && c == 'z'");
  t.equal(s.toString(), '(a == "x" || (b == "y" && c == "z"))');
  // [labels, want] covering where "a || (b && c)" and "(a || b) && c" differ
  const rows: [Labels, boolean][] = [
    [{ a: 'x' }, true], // (a||b)&&c would be false
    [{ b: 'y' }, false], // (a||b)&&c false too, but b alone is not enough
    [{ b: 'y', c: 'z' }, true],
    [{ c: 'z' }, false],
    [{ a: 'x', c: 'q' }, true],
  ];
  for (const [labels, want] of rows) t.equal(s.matches(labels), want, JSON.stringify(labels));
  const p = parseSelector("(a == 'x' || b == 'y') && c == 'z'");
  t.equal(p.toString(), '((a == "x" || b == "y") && c == "z")');
  t.equal(p.matches({ a: 'x' }), false);
  t.equal(p.matches({ a: 'x', c: 'z' }), true);
});

t.test('global() when the caller says the entity is global', async (t) => {
  t.equal(parseSelector('global()').matches({}, { global: true }), true);
  t.equal(parseSelector('global()').matches({}, { global: false }), false);
});

// [input, canonical]
const canonicalTable: [string, string][] = [
  ['', 'all()'],
  ['all()', 'all()'],
  ["a == 'x'", 'a == "x"'],
  [`a == '"'`, `a == '"'`],
  ["a != 'x'", 'a != "x"'],
  ["a in {'b', 'a', 'b'}", 'a in {"a", "b"}'],
  ["a not in {'z','y',}", 'a not in {"y", "z"}'],
  ['a in {}', 'a in {}'],
  ['has( a )', 'has(a)'],
  ['!has(a)', '!has(a)'],
  ['!!has(a)', 'has(a)'],
  ["!(a == 'x' && b == 'y')", '!(a == "x" && b == "y")'],
  ["a contains 'x'", 'a contains "x"'],
  ["a starts with 'x'", 'a starts with "x"'],
  ["a ends with 'x'", 'a ends with "x"'],
  ['global()', 'global()'],
  ["((a == 'x'))", 'a == "x"'],
  ["a == 'x' && b == 'y' && c == 'z'", '(a == "x" && b == "y" && c == "z")'],
  ["nodeSelector == 'all()'", 'nodeSelector == "all()"'],
];

t.test('canonical text (Calico String()) and round trip', async (t) => {
  for (const [input, want] of canonicalTable) {
    const s = parseSelector(input);
    t.equal(s.toString(), want, JSON.stringify(input));
    t.equal(parseSelector(s.toString()).toString(), want, `round trip ${JSON.stringify(input)}`);
  }
});

// [input, position, reason fragment]
const errorTable: [string, number, string][] = [
  ['a ==', 4, 'expected a quoted string'],
  ["a = 'x'", 2, "expected '=='"],
  ["a == 'x", 5, 'unterminated string'],
  ["a == 'x' &", 9, "expected '&&'"],
  ["a == 'x' | b == 'y'", 9, "expected '||'"],
  ["a == 'x' b == 'y'", 9, "expected '&&', '||' or end of selector"],
  ["a == 'x' && ", 12, 'expected a label'],
  ["(a == 'x'", 9, "expected ')'"],
  ["a == 'x')", 8, "expected '&&', '||' or end of selector"],
  ['has()', 4, 'expected a label key'],
  ['has(a', 5, "expected ')' to close has("],
  ['all(x)', 4, "expected ')' to close all("],
  ['a', 1, 'expected an operator'],
  ['a b', 2, 'unexpected characters after label'],
  ["a starts 'x'", 9, "expected 'with'"],
  ["a not 'x'", 6, "expected 'in'"],
  ["a in 'x'", 5, "expected '{'"],
  ["a in {'x' 'y'}", 10, "expected a quoted string or '}'"],
  ["a in {'x'", 9, "expected a quoted string or '}'"],
  ["a == 'x' && #", 12, 'unexpected character "#"'],
  ["a == 'x'\n", 8, 'unexpected character "\\n"'],
  ['has (a)', 4, "expected an operator after label 'has'"],
  ['== "x"', 0, 'expected a label'],
  ['a == b', 5, 'expected a quoted string'],
  ['()', 1, 'expected a label'],
];

t.test('syntax errors point at the offending character', async (t) => {
  for (const [input, position, reason] of errorTable) {
    try {
      parseSelector(input);
      t.fail(`${JSON.stringify(input)} should not parse`);
    } catch (err) {
      t.ok(err instanceof SelectorError, `${JSON.stringify(input)} throws SelectorError`);
      const e = err as SelectorError;
      t.equal(e.code, 'ERR_SELECTOR_SYNTAX');
      t.equal(e.position, position, `${JSON.stringify(input)} position`);
      t.match(e.reason, reason, `${JSON.stringify(input)} reason`);
    }
  }
});

t.test('error message has a caret line under the offending character', async (t) => {
  try {
    parseSelector("app == 'web' && tier = 'x'");
    t.fail('should throw');
  } catch (err) {
    const e = err as SelectorError;
    t.equal(e.position, 21);
    t.equal(
      e.message,
      "selector syntax error at position 21: expected '=='\n" +
        "  app == 'web' && tier = 'x'\n" +
        '                       ^',
    );
    t.same(e.details, { selector: "app == 'web' && tier = 'x'", position: 21, reason: "expected '=='" });
  }
});

t.test('caret stays aligned after tabs', async (t) => {
  try {
    parseSelector("\ta == 'x' ?");
    t.fail('should throw');
  } catch (err) {
    const e = err as SelectorError;
    t.equal(e.position, 10);
    t.equal(e.message.split('\n')[2], '  \t         ^');
  }
});

t.test('label key of 513 characters is rejected, 512 accepted', async (t) => {
  const k512 = 'k'.repeat(512);
  t.equal(parseSelector(`has(${k512})`).matches({ [k512]: '' }), true);
  t.throws(() => parseSelector(`${k512}k == 'x'`), { code: 'ERR_SELECTOR_SYNTAX' });
});
