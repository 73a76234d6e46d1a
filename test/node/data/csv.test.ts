import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvParser, decodeLatin1, readCsvFile, readDelimitedFile } from '../../../train/data/csv.ts';

/** Parse `text` fed in chunks of `chunk` characters; returns [fields, line] pairs. */
function parse(text: string, chunk = text.length || 1): Array<[string[], number]> {
  const records: Array<[string[], number]> = [];
  const parser = new CsvParser((fields, line) => records.push([fields, line]));
  for (let i = 0; i < text.length; i += chunk) parser.push(text.slice(i, i + chunk));
  parser.end();
  return records;
}

describe('CsvParser (RFC 4180)', () => {
  it('splits plain fields, LF and CRLF records, with physical line numbers', () => {
    expect(parse('a,b,c\nd,e,f\r\ng,h,i')).toEqual([
      [['a', 'b', 'c'], 1],
      [['d', 'e', 'f'], 2],
      [['g', 'h', 'i'], 3],
    ]);
  });

  it('keeps commas, doubled quotes and newlines inside quoted fields', () => {
    const text = '1,"Misérables, Les (1995)",Drama\r\n2,"say ""hi""",x\r\n3,"two\nlines",y\r\n4,z,w\r\n';
    expect(parse(text)).toEqual([
      [['1', 'Misérables, Les (1995)', 'Drama'], 1],
      [['2', 'say "hi"', 'x'], 2],
      [['3', 'two\nlines', 'y'], 3],
      // The quoted newline consumed physical line 4, so this record starts on line 5.
      [['4', 'z', 'w'], 5],
    ]);
  });

  it('keeps a stray \\r that is not followed by \\n as content (as in tmdb_5000_movies.csv)', () => {
    expect(parse('a,b\rc,d\nx,"q\r",y\n')).toEqual([
      [['a', 'b\rc', 'd'], 1],
      [['x', 'q\r', 'y'], 2],
    ]);
  });

  it('handles empty fields, a JSON column and blank lines', () => {
    const json = '"[{""id"": 28, ""name"": ""Action""}]"';
    const records = parse(`,x,\n\n1,${json},\n`);
    expect(records).toEqual([
      [['', 'x', ''], 1],
      [['1', '[{"id": 28, "name": "Action"}]', ''], 3],
    ]);
    expect(JSON.parse(records[1]![0][1]!)).toEqual([{ id: 28, name: 'Action' }]);
  });

  it('gives the same records whatever the chunk boundaries (quote, CR and LF straddling chunks)', () => {
    const text = 'id,"t, ""x""",g\r\n2,"a\r\nb",c\r\n3,d\re,f\n4,"",""\r\n';
    const whole = parse(text);
    expect(whole).toHaveLength(4);
    for (let chunk = 1; chunk <= text.length; chunk++) expect(parse(text, chunk)).toEqual(whole);
  });
});

describe('text files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reelrank-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes ISO-8859-1 byte for byte (0xE9 is é; 0x80-0x9F are C1 controls, not cp1252)', () => {
    expect(decodeLatin1(Uint8Array.from([0x4d, 0x69, 0x73, 0xe9, 0x72]))).toBe('Misér');
    expect(
      decodeLatin1(Uint8Array.from([0x80, 0xff]))
        .split('')
        .map((c) => c.charCodeAt(0)),
    ).toEqual([0x80, 0xff]);
  });

  it('reads a Latin-1 "::" file line by line with line numbers', async () => {
    const path = join(dir, 'movies.dat');
    writeFileSync(path, Buffer.from('73::Mis\xe9rables, Les (1995)::Drama|Musical\n\n74::B::C\n', 'latin1'));
    const lines: Array<[string[], number]> = [];
    await readDelimitedFile(path, '::', 'latin1', (fields, line) => lines.push([fields, line]));
    expect(lines).toEqual([
      [['73', 'Misérables, Les (1995)', 'Drama|Musical'], 1],
      [['74', 'B', 'C'], 3],
    ]);
  });

  it('streams a UTF-8 CSV file whose multi-byte characters straddle read chunks', async () => {
    const path = join(dir, 'utf8.csv');
    const rows = Array.from({ length: 3000 }, (_, i) => `${i},"Amélie, ${'é'.repeat(i % 7)}"`);
    writeFileSync(path, `${rows.join('\r\n')}\r\n`);
    const seen: string[] = [];
    await readCsvFile(path, (fields) => seen.push(fields[1]!));
    expect(seen).toHaveLength(3000);
    expect(seen[2999]).toBe(`Amélie, ${'é'.repeat(2999 % 7)}`);
  });
});
