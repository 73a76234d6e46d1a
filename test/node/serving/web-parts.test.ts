import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { checkCatalogMap, checkPosterIndex, scaleLayout } from '../../../shared/artifacts/web-parts.ts';
import { displayTitle } from '../../../shared/display-title.ts';
import { jpegSize, posterThumbnail, THUMBNAIL_MAX_BYTES } from '../../../train/visual/thumbnails.ts';

describe('displayTitle', () => {
  it.each([
    ['Matrix, The', 'The Matrix'],
    ['Misérables, Les', 'Les Misérables'],
    ["Avventura, L' (Adventure, The)", "L'Avventura (The Adventure)"],
    ["Hard Day's Night, A", "A Hard Day's Night"],
    ['Trou, Le (Hole, The) (Night Watch, The)', 'Le Trou (The Hole) (The Night Watch)'],
    ['I, Robot', 'I, Robot'],
    ['Crouching Tiger, Hidden Dragon (Wo hu cang long)', 'Crouching Tiger, Hidden Dragon (Wo hu cang long)'],
    ['Toy Story', 'Toy Story'],
  ])('%s -> %s', (stored, shown) => {
    expect(displayTitle(stored)).toBe(shown);
  });

  it('runs from its own source text (the page ships it to the browser)', () => {
    const shipped = new Function(`return (${displayTitle.toString()})`)() as typeof displayTitle;
    expect(shipped('Dark Knight, The')).toBe('The Dark Knight');
  });
});

describe('catalog map and poster index files', () => {
  it('scales a layout to 0..1000 keeping the aspect ratio; outliers are clamped to the box', () => {
    expect(scaleLayout(Float64Array.of(0, 0, 2, 1), [7, 9], 'pca').points).toEqual([
      [7, 0, 250],
      [9, 1000, 750],
    ]);
    const xy = new Float64Array(2 * 200);
    for (let i = 0; i < 200; i++) {
      xy[2 * i] = i % 20;
      xy[2 * i + 1] = Math.floor(i / 20);
    }
    xy[0] = -1e6; // one far outlier
    const map = scaleLayout(
      xy,
      Array.from({ length: 200 }, (_, i) => i + 1),
      't-SNE',
    );
    expect(map.points[0]).toEqual([1, 0, expect.any(Number)]);
    const xs = map.points.slice(1).map((p) => p[1]);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(900);
    expect(checkCatalogMap(map, 'map')).toBe(map);
  });

  it('refuses malformed files with the file named', () => {
    expect(() => checkCatalogMap({ method: 'x', points: [[1, 2000, 0]] }, 'catalog_map.json of v1')).toThrow(
      /catalog_map.json of v1: expected/,
    );
    expect(() => checkPosterIndex({ width: 92, height: 138, movieIds: ['1'] }, 'posters/index.json')).toThrow(
      /posters\/index.json: expected/,
    );
  });
});

describe('poster thumbnails', () => {
  const image = (width: number, height: number, quality: number) => {
    const data = new Uint8Array(width * height * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251; // noisy: hard to compress
    return jpeg.encode({ width, height, data }, quality).data;
  };

  it('reads a JPEG size from its header', () => {
    expect(jpegSize(image(40, 60, 50))).toEqual({ width: 40, height: 60 });
    expect(jpegSize(Uint8Array.of(0x89, 0x50, 0x4e, 0x47))).toBeNull();
  });

  it('keeps a poster already within budget byte for byte, and shrinks a big one to 92 x 138 within 8 KB', () => {
    const small = image(46, 69, 40);
    expect(small.length).toBeLessThanOrEqual(THUMBNAIL_MAX_BYTES);
    expect(posterThumbnail(small, 'small.jpg')).toBe(small);
    const big = image(500, 600, 95);
    const thumb = posterThumbnail(big, 'big.jpg');
    expect(jpegSize(thumb)).toEqual({ width: 92, height: 138 });
    expect(thumb.length).toBeLessThanOrEqual(THUMBNAIL_MAX_BYTES);
  });

  it('names a file that is not an image', () => {
    expect(() => posterThumbnail(new TextEncoder().encode('<html>'), 'posters/7.jpg')).toThrow(
      /posters\/7.jpg/,
    );
  });
});
