/**
 * A scatter plot of a 2-D map as a standalone SVG, one colour per genre with a legend: for the
 * training report and the similarity benchmark. No dependency, no browser.
 */

/** Colour-blind-friendly categorical palette (Tableau 10 + extras); the last entry is "other". */
export const GENRE_PALETTE = Object.freeze([
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#17becf',
  '#bcbd22',
  '#8c564b',
  '#bab0ac',
]);

/**
 * One label per movie for colouring: its most specific genre among the `legendSize` most common
 * ones (the rarest of them in the catalog), else 'other'. MovieLens lists genres alphabetically,
 * so "first genre" would paint half the map "Action"/"Adventure".
 */
export function primaryGenres(
  genres: readonly (readonly string[])[],
  legendSize = GENRE_PALETTE.length - 1,
): { labels: string[]; legend: string[] } {
  const freq = new Map<string, number>();
  for (const list of genres) for (const g of list) freq.set(g, (freq.get(g) ?? 0) + 1);
  const legend = [...freq.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, legendSize)
    .map(([g]) => g);
  const inLegend = new Set(legend);
  const labels = genres.map((list) => {
    let best: string | null = null;
    for (const g of list) if (inLegend.has(g) && (best === null || freq.get(g)! < freq.get(best)!)) best = g;
    return best ?? 'other';
  });
  return { labels, legend: [...legend, 'other'] };
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface ScatterOptions {
  title: string;
  subtitle?: string;
  width?: number;
  height?: number;
  radius?: number;
}

/**
 * Render points [n, 2] with labels[n] (colour by legend order) to an SVG document.
 * @example writeFileSync('map.svg', scatterSvg(map.points, labels, legend, { title: 'Posters (t-SNE)' }))
 */
export function scatterSvg(
  points: Float64Array,
  labels: readonly string[],
  legend: readonly string[],
  { title, subtitle = '', width = 900, height = 700, radius = 2.6 }: ScatterOptions,
): string {
  const n = labels.length;
  const plot = { left: 20, top: 60, right: width - 190, bottom: height - 20 };
  // Points are placed inside a margin so circles at the extremes are not cut by the frame.
  const pad = radius + 4;
  let minX = Number.POSITIVE_INFINITY;
  let maxX = Number.NEGATIVE_INFINITY;
  let minY = Number.POSITIVE_INFINITY;
  let maxY = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    minX = Math.min(minX, points[i * 2]!);
    maxX = Math.max(maxX, points[i * 2]!);
    minY = Math.min(minY, points[i * 2 + 1]!);
    maxY = Math.max(maxY, points[i * 2 + 1]!);
  }
  const sx = (plot.right - plot.left - 2 * pad) / (maxX - minX || 1);
  const sy = (plot.bottom - plot.top - 2 * pad) / (maxY - minY || 1);
  const otherColour = GENRE_PALETTE[GENRE_PALETTE.length - 1]!;
  const colour = new Map(
    legend.map((g, i) => [
      g,
      g === 'other' ? otherColour : GENRE_PALETTE[Math.min(i, GENRE_PALETTE.length - 2)]!,
    ]),
  );
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="20" y="28" font-size="18" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="20" y="48" font-size="12" fill="#555">${escapeXml(subtitle)}</text>`,
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="none" stroke="#ddd"/>`,
  ];
  // "other" first so the labelled genres are drawn on top of it.
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => Number(labels[b] === 'other') - Number(labels[a] === 'other'),
  );
  for (const i of order) {
    const cx = plot.left + pad + (points[i * 2]! - minX) * sx;
    const cy = plot.bottom - pad - (points[i * 2 + 1]! - minY) * sy;
    parts.push(
      `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${radius}" fill="${colour.get(labels[i]!) ?? otherColour}" fill-opacity="0.8"/>`,
    );
  }
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  legend.forEach((g, k) => {
    const y = plot.top + 10 + k * 22;
    parts.push(`<circle cx="${plot.right + 20}" cy="${y}" r="6" fill="${colour.get(g)}"/>`);
    parts.push(
      `<text x="${plot.right + 32}" y="${y + 4}" font-size="13">${escapeXml(g)} (${counts.get(g) ?? 0})</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
