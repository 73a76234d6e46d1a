import { type Movie, movieRecord } from '../../shared/catalog.ts';
import { normaliseTitle } from '../../shared/serving/titles.ts';

// "Title (1995)", also "Title (2006–2007)" for series and "Title (1995) " with a stray space.
const TITLE_YEAR = /^(.*?)\s*\((\d{4})(?:\s*[-–]\s*\d{0,4})?\)\s*$/;

/**
 * Split a MovieLens title into title and year: "Misérables, Les (1995)" -> {title: "Misérables,
 * Les", year: 1995}. Titles without a year ("unknown") keep their text and get year null.
 */
export function splitTitleYear(raw: string): { title: string; year: number | null } {
  const match = TITLE_YEAR.exec(raw);
  if (!match) return { title: raw.trim(), year: null };
  return { title: match[1]!.trim(), year: Number(match[2]) };
}

/** A movie with only id, title and year known; every other field empty, never invented. */
export function blankMovie(movieId: number, title: string, year: number | null): Movie {
  return movieRecord({ movieId, title, year });
}

// One normalisation for catalog joins, title search and title resolution (shared/serving/titles.ts).
export { normaliseTitle } from '../../shared/serving/titles.ts';

/**
 * Keys a movie can be matched under: its normalised title and, for MovieLens titles carrying an
 * alternate title in parentheses ("Shanghai Triad (Yao a yao yao dao waipo qiao)"), the part
 * before it; each suffixed with the year.
 */
export function titleYearKeys(title: string, year: number | null): string[] {
  if (year === null) return [];
  const keys = new Set<string>([`${normaliseTitle(title)}|${year}`]);
  const paren = title.indexOf(' (');
  if (paren > 0) keys.add(`${normaliseTitle(title.slice(0, paren))}|${year}`);
  return [...keys];
}
