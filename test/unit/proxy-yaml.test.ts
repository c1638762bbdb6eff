import { describe, expect, it } from 'vitest';
import { parseYaml, toPlain, YamlError, type MapNode } from '../../examples/proxy/yaml';

const plain = (t: string) => toPlain(parseYaml(t));

function errorOf(t: string): YamlError {
  try {
    parseYaml(t);
  } catch (e) {
    if (e instanceof YamlError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('proxy example: YAML subset', () => {
  it('reads block mappings, sequences and scalars with their types', () => {
    const doc = `
# a comment
---
name: web   # trailing comment
port: 80
ratio: 1.5
on: true
off: false
nothing: ~
empty:
ip: 10.96.0.10
v6: fd00::10
quoted: "a # not a comment"
single: 'it''s'
list:
  - a
  - 2
nested:
  deeper:
    x: 1
seq-at-key-indent:
- one
- two
`;
    expect(plain(doc)).toEqual({
      name: 'web', port: 80, ratio: 1.5, on: true, off: false, nothing: null, empty: null,
      ip: '10.96.0.10', v6: 'fd00::10', quoted: 'a # not a comment', single: "it's",
      list: ['a', 2], nested: { deeper: { x: 1 } }, 'seq-at-key-indent': ['one', 'two'],
    });
  });

  it('reads mappings inside list items, and flow collections over several lines', () => {
    const doc = `services:
  - name: a
    ips: [10.0.0.1, "fd00::1"]
    ports:
      - { port: 80, protocol: tcp }
    endpoints: [
      { address: 10.1.0.1 },   # first
      { address: 10.1.0.2, ready: false },
    ]
  -
    name: b
`;
    expect(plain(doc)).toEqual({
      services: [
        { name: 'a', ips: ['10.0.0.1', 'fd00::1'], ports: [{ port: 80, protocol: 'tcp' }], endpoints: [{ address: '10.1.0.1' }, { address: '10.1.0.2', ready: false }] },
        { name: 'b' },
      ],
    });
  });

  it('reads JSON, with the line of every value', () => {
    const json = JSON.stringify({ services: [{ name: 'a\u00e9"', ips: ['10.0.0.1'], n: -3.5e2, t: null }] }, null, 2);
    expect(plain(json)).toEqual(JSON.parse(json));
    const root = parseYaml(json) as MapNode;
    const services = root.entries.get('services')!.value;
    expect(services.line).toBe(2);
    expect(services.kind === 'seq' && services.items[0]!.line).toBe(3);
  });

  it('records lines of block values', () => {
    const root = parseYaml('a: 1\n\nb:\n  - x\n  - y: 2\n') as MapNode;
    expect(root.entries.get('a')!.value.line).toBe(1);
    const b = root.entries.get('b')!.value;
    expect(b.kind === 'seq' && b.items.map((i) => i.line)).toEqual([4, 5]);
  });

  it('says which line is wrong', () => {
    expect(errorOf('a: 1\na: 2\n')).toMatchObject({ line: 2, reason: expect.stringContaining("'a' appears twice") });
    expect(errorOf('a:\n  b: 1\n    c: 2\n').line).toBe(3);
    expect(errorOf('a: [1, 2\nb: 3\n').line).toBeGreaterThanOrEqual(2);
    expect(errorOf('a: |\n  text\n')).toMatchObject({ line: 1, reason: expect.stringContaining('block scalars') });
    expect(errorOf('a: &x 1\n').reason).toContain('anchors');
    expect(errorOf('a: "open\n').reason).toContain('not closed');
    expect(errorOf('a: 1\n\tb: 2\n').line).toBe(2);
    expect(errorOf('{"a": 1,, }').reason).toContain("unexpected ','");
    expect(errorOf('a: 1\n---\nb: 2\n').reason).toContain('one document');
  });

  it('reads an empty document as null', () => {
    expect(plain('')).toBeNull();
    expect(plain('# only a comment\n')).toBeNull();
  });
});
