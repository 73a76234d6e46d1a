/**
 * How a title is shown to people: MovieLens stores "Matrix, The" and "Avventura, L' (Adventure,
 * The)"; people read "The Matrix" and "L'Avventura (The Adventure)". Display only: search and
 * title resolution keep their own keys (shared/serving/titles.ts), which accept both forms.
 *
 * The function is self-contained (no imports, no module constants, no inner functions) because
 * the web page ships its source to the browser (`displayTitle.toString()`), so one function
 * serves the API's display fields and the page.
 *
 * @example displayTitle('Matrix, The') // 'The Matrix'
 * @example displayTitle('Legend, The (Legend of Fong Sai-Yuk, The) (Fong Sai Yuk)')
 * // 'The Legend (The Legend of Fong Sai-Yuk) (Fong Sai Yuk)'
 */
export function displayTitle(title: string): string {
  // Leading article moved to the end of a title or of a parenthesised alternative title.
  const trailing = /^(.*\S), (The|A|An|Les|La|Le|L'|Il|El|Los|Las|Die|Der|Das|Den|Det|Lo|Gli|Une?|Ein|Eine)$/;
  const parts: string[] = [];
  let rest = title.trim();
  // Split "Main (alt 1) (alt 2)" from the end: each trailing "(...)" group is one alternative.
  const groups: string[] = [];
  for (;;) {
    const group = /^(.*\S)\s+\(([^()]+)\)$/.exec(rest);
    if (group === null) break;
    groups.unshift(group[2]!);
    rest = group[1]!;
  }
  parts.push(rest);
  for (const g of groups) parts.push(g);
  const shown: string[] = [];
  for (const part of parts) {
    const m = trailing.exec(part);
    if (m === null) shown.push(part);
    else if (m[2]!.endsWith("'")) shown.push(m[2]! + m[1]!);
    else shown.push(`${m[2]} ${m[1]}`);
  }
  let out = shown[0]!;
  for (let n = 1; n < shown.length; n++) out += ` (${shown[n]})`;
  return out;
}
